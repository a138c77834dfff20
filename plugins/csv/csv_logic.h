// The csv plugin's logic: a streaming RFC 4180 reader with a typed schema, per-row validation and
// a data-quality report, a writer with formula-injection protection, and the allowed-roots check
// for file paths. Nothing here knows about the plugin ABI, so it is unit-tested directly.
//
// The reader never holds the whole input: a file is read in fixed-size chunks and every accepted
// row is turned into a JSON object at once; fields are parsed into buffers reused from one record
// to the next. Rejected rows keep their raw text (up to a cap) for the audit trail.
//
// Errors: bad options, refused paths and an unusable header (malformed, duplicate names, a
// schema column missing) throw OptionError with a message that names the field or the line
// (`with.schema[2].type: ...`); a bad data row never throws, it becomes a rejection.
//
// Thread-safety: every function is reentrant; nothing is shared between calls.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::csv_plugin {

class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ColumnType { string, integer, number, decimal, date, boolean };

struct ColumnSpec {
  std::string name;      // the header's name (or the position's name without a header)
  std::string out_name;  // the output field (rename), defaults to name
  ColumnType type = ColumnType::string;
  bool required = false;
  std::vector<boost::json::value> allowed;  // empty: any value
  std::optional<double> min, max;           // numeric types
  std::optional<std::string> min_date, max_date;
  std::string date_format = "%Y-%m-%d";  // %Y %m %d and literal characters
};

// max_rejected: a count, or a ratio of the rows read.
struct RejectLimit {
  std::optional<std::uint64_t> count;
  std::optional<double> ratio;
};

struct ReadOptions {
  char delimiter = ',';
  bool header = true;
  std::size_t max_field_bytes = 1u << 20;  // longer fields reject the row (1 MiB by default)
  std::vector<ColumnSpec> schema;          // empty: every column as a string
  bool keep_extra_columns = true;          // with a schema: keep unknown columns as strings
  std::optional<RejectLimit> max_rejected;
  std::string batch_id;
  bool stamp_batch_id = false;              // adds `_batch_id` to every row
  std::size_t max_rejected_listed = 1000;   // rejected rows listed in the output
};

// Reads `with` (without the source fields path/content). Throws OptionError.
ReadOptions parse_read_options(const boost::json::object& with);

struct ReadResult {
  boost::json::array rows;
  boost::json::array rejected;  // {line, record, reasons: [...]}, at most max_rejected_listed
  std::uint64_t rows_read = 0;
  std::uint64_t rows_rejected = 0;
  boost::json::object report;  // rows_read/accepted/rejected, columns: {name: {nulls, rejected}}
};

// Something to read bytes from, chunk by chunk. Returns 0 at the end.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::size_t read(char* buffer, std::size_t size) = 0;
};

// Throws OptionError when the header lacks a schema column or when the input cannot be read.
ReadResult read_csv(ByteSource& source, const ReadOptions& options);
ReadResult read_csv(std::string_view content, const ReadOptions& options);
ReadResult read_csv_file(const std::filesystem::path& file, const ReadOptions& options);

// The message that fails the step when `max_rejected` is exceeded, or nullopt.
std::optional<std::string> reject_limit_message(const ReadResult& result,
                                                const ReadOptions& options);

// A batch id derived from the call's idempotency key: the same on every attempt of one call,
// different between calls.
std::string batch_id_for(std::string_view idempotency_key);

// Roots from the plugin configuration `{"roots": [...]}` (canonical). Throws OptionError.
std::vector<std::filesystem::path> roots_from_config(const boost::json::object& config);

// Resolves `path` (relative paths against the first root) and checks that it lies inside one of
// `roots` once `..` and symbolic links are resolved. `field` names the input in messages.
// Throws OptionError.
std::filesystem::path resolve_allowed(std::string_view path,
                                      const std::vector<std::filesystem::path>& roots,
                                      std::string_view field);

struct WriteOptions {
  char delimiter = ',';
  bool header = true;
  std::vector<std::string> columns;  // empty: the first row's fields, in order
  std::string line_ending = "\r\n";
};

// Reads `with` (delimiter, header, columns, line_ending). Throws OptionError.
WriteOptions parse_write_options(const boost::json::object& with);

// One cell, protected against formula injection (a leading = + - @ TAB CR or NUL gets a `'`) and
// quoted when needed.
std::string format_cell(const boost::json::value& value, char delimiter);

// The whole CSV text; fills options.columns when it was empty. Throws OptionError for a row that
// is not an object.
std::string write_csv(const boost::json::array& rows, WriteOptions& options);

// Writes `text` to `file` through a temporary file in the same directory and a rename, so that a
// reader never sees half a file. Throws OptionError.
void write_file_atomically(const std::filesystem::path& file, std::string_view text);

}  // namespace flowpilot::csv_plugin
