#include <flowpilot/money.hpp>

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace money = flowpilot::sdk::money;
namespace json = boost::json;

namespace {

TEST(SdkMoneyTest, StrictDecimalsAreWhatApisSend) {
  EXPECT_EQ(money::parse_decimal_micros("12.34"), 12'340'000);
  EXPECT_EQ(money::parse_decimal_micros("0.000001"), 1);
  EXPECT_EQ(money::parse_decimal_micros("-3"), -3'000'000);
  EXPECT_EQ(money::parse_decimal_micros("9223372036853"), 9'223'372'036'853'000'000);
  for (const char* bad : {"", "-", ".", "1.", ".5", "+1", "1.2345678", "1.2300000", "1e3", "12,5",
                          "abc", "1.2.3", "--1", " 1", "1 ", "9223372036855"}) {
    EXPECT_EQ(money::parse_decimal_micros(bad), std::nullopt) << bad;
  }
}

TEST(SdkMoneyTest, LenientDecimalsAreWhatPeopleType) {
  using money::Dialect;
  EXPECT_EQ(money::parse_decimal("+5", Dialect::lenient).micros, 5'000'000);
  EXPECT_EQ(money::parse_decimal(".5", Dialect::lenient).micros, 500'000);
  EXPECT_EQ(money::parse_decimal("1.", Dialect::lenient).micros, 1'000'000);
  EXPECT_EQ(money::parse_decimal("1.2300000", Dialect::lenient).micros, 1'230'000);
  EXPECT_EQ(money::parse_decimal("1.2345678", Dialect::lenient).problem, "has more than 6 decimals");
  EXPECT_EQ(money::parse_decimal("99999999999999999999", Dialect::lenient).problem, "is too large");
  for (const char* bad : {"", ".", "+", "1,5", "1e3", "1.2.3"}) {
    const auto parsed = money::parse_decimal(bad, Dialect::lenient);
    EXPECT_EQ(parsed.micros, std::nullopt) << bad;
    EXPECT_EQ(parsed.problem, "is not a decimal number") << bad;
  }
}

TEST(SdkMoneyTest, NumbersRoundToTheNearestMicroAndSumExactly) {
  EXPECT_EQ(money::to_micros(json::value(0.1)), 100'000);
  EXPECT_EQ(*money::to_micros(json::value(0.1)) + *money::to_micros(json::value(0.2)), 300'000);
  EXPECT_EQ(money::to_micros(json::value(8499999999.999999)), 8'499'999'999'999'999);
  EXPECT_EQ(money::to_micros(json::value(-8499999999.999999)), -8'499'999'999'999'999);
  EXPECT_EQ(money::to_micros(json::value(4294967295.999999)), 4'294'967'295'999'999);
  EXPECT_EQ(money::to_micros(json::value(7)), 7'000'000);
  EXPECT_EQ(money::to_micros(json::value("99.90")), 99'900'000);
  EXPECT_EQ(money::to_micros(json::value(1e10)), std::nullopt);  // no longer exact to the micro
  EXPECT_EQ(money::to_micros(json::value(std::int64_t{10'000'000'000'000})), std::nullopt);
  EXPECT_EQ(money::to_micros(json::value(true)), std::nullopt);
  EXPECT_EQ(money::to_micros(json::value("1.")), std::nullopt);
  EXPECT_EQ(money::micros_to_number(12'500'000), json::value(12.5));
  EXPECT_EQ(money::micros_to_number(3'000'000), json::value(3));
  EXPECT_EQ(money::micros_to_number(-1), json::value(-0.000001));
}

}  // namespace
