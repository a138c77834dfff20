#include "engine/http/detail/ssrf_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace flowpilot::engine::http_detail {

namespace {

IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress address;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

bool starts_with(const IpAddress& address, std::initializer_list<std::uint8_t> prefix) {
  return std::equal(prefix.begin(), prefix.end(), address.bytes.begin());
}

bool all_zero(const IpAddress& address, std::size_t from, std::size_t to) {
  return std::all_of(address.bytes.begin() + static_cast<std::ptrdiff_t>(from),
                     address.bytes.begin() + static_cast<std::ptrdiff_t>(to),
                     [](std::uint8_t b) { return b == 0; });
}

// IPv6 forms that carry an IPv4 address a packet may end up at: IPv4-mapped (::ffff:a.b.c.d),
// the deprecated IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
std::optional<IpAddress> embedded_v4(const IpAddress& address) {
  if (!address.v6) return std::nullopt;
  const auto& b = address.bytes;
  if (all_zero(address, 0, 10) && b[10] == 0xff && b[11] == 0xff) {
    return v4(b[12], b[13], b[14], b[15]);
  }
  if (all_zero(address, 0, 12)) return v4(b[12], b[13], b[14], b[15]);
  if (starts_with(address, {0x00, 0x64, 0xff, 0x9b}) && all_zero(address, 4, 12)) {
    return v4(b[12], b[13], b[14], b[15]);
  }
  if (starts_with(address, {0x20, 0x02})) return v4(b[2], b[3], b[4], b[5]);
  return std::nullopt;
}

bool in(const IpAddress& address, std::string_view cidr) {
  return parse_network(cidr).contains(address);
}

std::string classify_v4(const IpAddress& address) {
  const auto& b = address.bytes;
  if (b[0] == 0) return "unspecified";
  if (b[0] == 127) return "loopback";
  if (b[0] == 10 || in(address, "172.16.0.0/12") || in(address, "192.168.0.0/16")) return "private";
  if (b[0] == 169 && b[1] == 254) {
    return b[2] == 169 && b[3] == 254 ? "metadata" : "link-local";
  }
  if (in(address, "100.64.0.0/10")) return "CGNAT";
  if (b[0] >= 224 && b[0] < 240) return "multicast";
  if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "broadcast";
  if (b[0] >= 240) return "reserved";
  // IETF protocol assignments, documentation and benchmarking ranges: never a real API.
  for (const auto* cidr :
       {"192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24"}) {
    if (in(address, cidr)) return "reserved";
  }
  return {};
}

std::string classify(const IpAddress& address) {
  if (!address.v6) return classify_v4(address);
  if (all_zero(address, 0, 16)) return "unspecified";
  if (all_zero(address, 0, 15) && address.bytes[15] == 1) return "loopback";
  if (auto inner = embedded_v4(address)) return classify_v4(*inner);
  const auto& b = address.bytes;
  if (in(address, "fd00:ec2::254/128")) return "metadata";
  if ((b[0] & 0xfe) == 0xfc) return "private";  // unique local fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "private";  // deprecated site-local
  if (b[0] == 0xff) return "multicast";
  // NAT64 local use, discard-only and documentation prefixes.
  for (const auto* cidr : {"64:ff9b:1::/48", "100::/64", "2001:db8::/32"}) {
    if (in(address, cidr)) return "reserved";
  }
  return {};
}

bool allowed_by(const IpAddress& address, const std::vector<IpNetwork>& allowed) {
  auto inner = embedded_v4(address);
  return std::any_of(allowed.begin(), allowed.end(), [&](const IpNetwork& network) {
    return network.contains(address) || (inner && network.contains(*inner));
  });
}

}  // namespace

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.v6 != base.v6) return false;
  int bits = prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
    if ((address.bytes[i] & mask) != base.bytes[i]) return false;
  }
  return true;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN + 16) return std::nullopt;
  IpAddress address;
  if (text.find(':') != std::string_view::npos) {
    std::string plain(text.substr(0, text.find('%')));
    if (inet_pton(AF_INET6, plain.c_str(), address.bytes.data()) != 1) return std::nullopt;
    address.v6 = true;
    return address;
  }
  // glibc's inet_aton stops at whitespace and accepts what follows; a literal has none.
  const bool plausible = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == 'x' ||
           c == 'X' || c == '.';
  });
  if (!plausible) return std::nullopt;
  std::string copy(text);
  in_addr parsed{};
  if (inet_aton(copy.c_str(), &parsed) == 0) return std::nullopt;
  std::memcpy(address.bytes.data(), &parsed.s_addr, 4);
  return address;
}

IpNetwork parse_network(std::string_view text) {
  const auto slash = text.find('/');
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address) {
    throw std::invalid_argument("allowed network \"" + std::string(text) +
                                "\" is not an IP address or CIDR block");
  }
  const int max_prefix = address->v6 ? 128 : 32;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() ||
        prefix < 0 || prefix > max_prefix) {
      throw std::invalid_argument("allowed network \"" + std::string(text) +
                                  "\" has a prefix length outside 0-" + std::to_string(max_prefix));
    }
  }
  IpNetwork network{*address, prefix};
  int bits = prefix;
  for (auto& byte : network.base.bytes) {
    if (bits >= 8) {
      bits -= 8;
      continue;
    }
    byte = static_cast<std::uint8_t>(bits > 0 ? byte & (0xff << (8 - bits)) : 0);
    bits = 0;
  }
  return network;
}

std::vector<IpNetwork> parse_networks(const std::vector<std::string>& texts) {
  std::vector<IpNetwork> networks;
  networks.reserve(texts.size());
  for (const auto& text : texts) networks.push_back(parse_network(text));
  return networks;
}

std::optional<IpAddress> from_sockaddr(const sockaddr* address) {
  IpAddress result;
  if (address->sa_family == AF_INET) {
    sockaddr_in in4{};
    std::memcpy(&in4, address, sizeof in4);
    std::memcpy(result.bytes.data(), &in4.sin_addr, 4);
    return result;
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    std::memcpy(result.bytes.data(), &in6.sin6_addr, 16);
    result.v6 = true;
    return result;
  }
  return std::nullopt;
}

std::string refusal_reason(const IpAddress& address, const std::vector<IpNetwork>& allowed) {
  if (allowed_by(address, allowed)) return {};
  return classify(address);
}

}  // namespace flowpilot::engine::http_detail
