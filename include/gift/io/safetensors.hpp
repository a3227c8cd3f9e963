#pragma once
/// \file gift/io/safetensors.hpp
/// \brief Reader and atomic writer for the safetensors format (F32, F16 and BF16 tensors).
///
/// Layout: a little-endian u64 header length N, N bytes of JSON, then the data section. The JSON
/// is an object mapping each tensor name to `{"dtype": "F32", "shape": [rows, cols],
/// "data_offsets": [begin, end]}` (offsets relative to the data section, row-major data, last
/// dimension fastest) plus an optional `"__metadata__"` object of string values. The reader checks
/// what the format promises: sizes agree with dtype and shape, tensors tile the data section
/// without gaps or overlaps, the header stays inside the file; anything else is `gift::error`.
///
/// \code
/// gift::io::safetensors_writer out;
/// out.set_metadata("format", "pt");
/// out.add("layers.0.q_proj.weight", weight);  // any Eigen matrix, stored [rows, cols]
/// out.write("model.safetensors");             // temporary file + rename
/// auto in = gift::io::safetensors_file::open("model.safetensors");
/// gift::matrix<float> w = in.read_matrix("layers.0.q_proj.weight");
/// \endcode

#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/detail/json.hpp>
#include <gift/io/half.hpp>
#include <gift/io/mapped_file.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::io {

/// Element types of the safetensors format. gift converts F32, F16, BF16 and F64 to float and
/// writes F32, F16 and BF16; the others are listed (and size-checked) so a file holding them can
/// still be opened.
enum class safetensors_dtype {
  boolean, u8, i8, f8_e5m2, f8_e4m3, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64,
};

}  // namespace gift::io

namespace gift::detail {
/// Name and element size of one safetensors dtype.
struct safetensors_dtype_entry {
  io::safetensors_dtype dtype;
  std::string_view name;
  std::size_t size;
};
inline constexpr std::array<safetensors_dtype_entry, 15> safetensors_dtypes{{
    {io::safetensors_dtype::boolean, "BOOL", 1}, {io::safetensors_dtype::u8, "U8", 1},
    {io::safetensors_dtype::i8, "I8", 1},        {io::safetensors_dtype::f8_e5m2, "F8_E5M2", 1},
    {io::safetensors_dtype::f8_e4m3, "F8_E4M3", 1}, {io::safetensors_dtype::i16, "I16", 2},
    {io::safetensors_dtype::u16, "U16", 2},      {io::safetensors_dtype::f16, "F16", 2},
    {io::safetensors_dtype::bf16, "BF16", 2},    {io::safetensors_dtype::i32, "I32", 4},
    {io::safetensors_dtype::u32, "U32", 4},      {io::safetensors_dtype::f32, "F32", 4},
    {io::safetensors_dtype::f64, "F64", 8},      {io::safetensors_dtype::i64, "I64", 8},
    {io::safetensors_dtype::u64, "U64", 8},
}};
}  // namespace gift::detail

namespace gift::io {

/// The format's name of `dtype`, e.g. "BF16".
[[nodiscard]] inline std::string_view name_of(safetensors_dtype dtype) noexcept {
  for (const auto& entry : detail::safetensors_dtypes) {
    if (entry.dtype == dtype) return entry.name;
  }
  return "?";
}

/// Writes the format's name of `dtype`.
inline std::ostream& operator<<(std::ostream& out, safetensors_dtype dtype) { return out << name_of(dtype); }

/// Bytes per element of `dtype`.
[[nodiscard]] inline std::size_t size_of(safetensors_dtype dtype) noexcept {
  for (const auto& entry : detail::safetensors_dtypes) {
    if (entry.dtype == dtype) return entry.size;
  }
  return 0;
}

/// The dtype called `name`, or nothing.
[[nodiscard]] inline std::optional<safetensors_dtype> parse_safetensors_dtype(std::string_view name) noexcept {
  for (const auto& entry : detail::safetensors_dtypes) {
    if (entry.name == name) return entry.dtype;
  }
  return std::nullopt;
}

/// One tensor of a safetensors file.
struct safetensors_tensor_info {
  std::string name;                         ///< tensor name
  safetensors_dtype dtype = safetensors_dtype::f32;  ///< element type
  std::vector<std::uint64_t> shape;         ///< row-major shape, last dimension fastest
  std::uint64_t begin = 0;                  ///< first byte, relative to the data section
  std::uint64_t end = 0;                    ///< one past the last byte, relative to the data section
  std::uint64_t element_count = 1;          ///< product of `shape` (1 for a scalar)

  /// Values per row: the last dimension (1 for a scalar).
  [[nodiscard]] std::uint64_t columns() const noexcept { return shape.empty() ? 1 : shape.back(); }
  /// Rows: the product of all other dimensions.
  [[nodiscard]] std::uint64_t rows() const noexcept { return columns() == 0 ? 0 : element_count / columns(); }
};

/// A parsed safetensors file; tensor data stays in the (mapped) file until read. Move-only.
class safetensors_file {
public:
  /// Largest header accepted (the reference implementation's limit): protects against a length
  /// field that would make the reader allocate the whole address space.
  static constexpr std::uint64_t max_header_size = 100'000'000;

  /// Maps and parses `path`; throws `gift::error` naming the path, byte offset and problem.
  [[nodiscard]] static safetensors_file open(const std::filesystem::path& path) { return parse(mapped_file::open(path)); }
  /// Parses bytes in memory.
  [[nodiscard]] static safetensors_file parse(mapped_file file);

  /// The `__metadata__` entries.
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  /// The tensors, in header order.
  [[nodiscard]] std::span<const safetensors_tensor_info> tensors() const noexcept { return tensors_; }
  /// The tensor called `name`, or `nullptr`.
  [[nodiscard]] const safetensors_tensor_info* find_tensor(std::string_view name) const noexcept {
    for (const auto& info : tensors_) {
      if (info.name == name) return &info;
    }
    return nullptr;
  }
  /// The tensor called `name`; throws `gift::error` if there is none.
  [[nodiscard]] const safetensors_tensor_info& tensor(std::string_view name) const {
    const auto* info = find_tensor(name);
    detail::require(info != nullptr, "gift::io::safetensors_file::tensor: '", file_.name(), "' has no tensor '",
                    name, "'; list them with tensors()");
    return *info;
  }
  /// The raw bytes of a tensor.
  [[nodiscard]] std::span<const std::byte> tensor_data(const safetensors_tensor_info& info) const noexcept {
    return file_.bytes().subspan(static_cast<std::size_t>(data_offset_ + info.begin),
                                 static_cast<std::size_t>(info.end - info.begin));
  }
  /// Absolute offset of the data section.
  [[nodiscard]] std::uint64_t data_offset() const noexcept { return data_offset_; }

  /// Converts a tensor's values (F32, F16, BF16 or F64) to float in storage order.
  void read_into(const safetensors_tensor_info& info, std::span<float> out) const {
    detail::require(out.size() == info.element_count, "gift::io::safetensors_file::read_into: tensor '", info.name,
                    "' has ", info.element_count, " values, but the output holds ", out.size());
    const std::byte* in = tensor_data(info).data();
    switch (info.dtype) {
      case safetensors_dtype::f32:
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::bit_cast<float>(load<std::uint32_t>(in + 4 * i));
        break;
      case safetensors_dtype::f64:
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(std::bit_cast<double>(load<std::uint64_t>(in + 8 * i)));
        break;
      case safetensors_dtype::f16:
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = half_to_float(load<std::uint16_t>(in + 2 * i));
        break;
      case safetensors_dtype::bf16:
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = bfloat16_to_float(load<std::uint16_t>(in + 2 * i));
        break;
      default:
        throw error(detail::concat("gift::io::safetensors_file::read_into: tensor '", info.name, "' has dtype ",
                                   name_of(info.dtype), ", which gift does not convert to float (F32, F16, BF16, F64)"));
    }
  }
  /// A tensor as a row-major `rows() × columns()` float matrix ([out, in] stays out × in).
  [[nodiscard]] gift::matrix<float> read_matrix(std::string_view name) const {
    const auto& info = tensor(name);
    gift::matrix<float> out(static_cast<Eigen::Index>(info.rows()), static_cast<Eigen::Index>(info.columns()));
    read_into(info, {out.data(), static_cast<std::size_t>(out.size())});
    return out;
  }
  /// A tensor's values in storage order as a vector.
  [[nodiscard]] gift::vector<float> read_vector(std::string_view name) const {
    const auto& info = tensor(name);
    gift::vector<float> out(static_cast<Eigen::Index>(info.element_count));
    read_into(info, {out.data(), static_cast<std::size_t>(out.size())});
    return out;
  }

private:
  safetensors_file() = default;

  template <class T>
  static T load(const std::byte* p) noexcept {
    T value = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) value = static_cast<T>((value << 8) | std::to_integer<T>(p[i]));
    return value;
  }

  mapped_file file_;
  std::uint64_t data_offset_ = 0;
  std::vector<safetensors_tensor_info> tensors_;
  std::map<std::string, std::string> metadata_;
};

inline safetensors_file safetensors_file::parse(mapped_file file) {
  safetensors_file out;
  out.file_ = std::move(file);
  const auto bytes = out.file_.bytes();
  const std::string context = "gift::io::safetensors_file: '" + out.file_.name() + "'";
  const auto fail = [&](std::uint64_t at, const std::string& what) -> void {
    throw error(detail::concat(context, ": byte offset ", at, ": ", what));
  };
  if (bytes.size() < 8) fail(0, detail::concat("the 8-byte header length needs 8 bytes, the file has ", bytes.size()));
  const std::uint64_t header_size = load<std::uint64_t>(bytes.data());
  if (header_size > max_header_size || header_size > bytes.size() - 8) {
    fail(0, detail::concat("header length ", header_size, " exceeds the ", bytes.size() - 8,
                           " bytes after it (or the 100 MB limit); the file is truncated or not safetensors"));
  }
  if (header_size < 2 || std::to_integer<char>(bytes[8]) != '{') {
    fail(8, "the header must be a JSON object starting with '{'");
  }
  out.data_offset_ = 8 + header_size;
  const std::uint64_t data_size = bytes.size() - out.data_offset_;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<std::size_t>(header_size));
  detail::json_parser parser(text, context, 8);
  const detail::json_value header = parser.parse_document();
  if (header.type != detail::json_value::kind::object) fail(8, "the header must be a JSON object");

  const auto require_kind = [&](const detail::json_value& value, detail::json_value::kind kind, const std::string& what) {
    if (value.type != kind) {
      fail(value.offset, detail::concat(what, " must be ", detail::json_kind_name(kind), ", found ",
                                        detail::json_kind_name(value.type)));
    }
  };
  const auto require_uint = [&](const detail::json_value& value, const std::string& what) -> std::uint64_t {
    if (value.type != detail::json_value::kind::number || !value.is_unsigned_integer) {
      fail(value.offset, what + " must be a non-negative integer");
    }
    return value.unsigned_integer;
  };

  for (const auto& [name, entry] : header.object) {
    if (name == "__metadata__") {
      require_kind(entry, detail::json_value::kind::object, "__metadata__");
      for (const auto& [key, value] : entry.object) {
        require_kind(value, detail::json_value::kind::string, "__metadata__ value '" + key + "'");
        if (!out.metadata_.emplace(key, value.string).second) fail(value.offset, "duplicate __metadata__ key '" + key + "'");
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    require_kind(entry, detail::json_value::kind::object, where);
    if (out.find_tensor(name) != nullptr) fail(entry.offset, "duplicate " + where);
    safetensors_tensor_info info;
    info.name = name;
    const auto* dtype = entry.find("dtype");
    const auto* shape = entry.find("shape");
    const auto* offsets = entry.find("data_offsets");
    if (dtype == nullptr || shape == nullptr || offsets == nullptr || entry.object.size() != 3) {
      fail(entry.offset, where + " must have exactly the keys dtype, shape and data_offsets");
    }
    require_kind(*dtype, detail::json_value::kind::string, where + " dtype");
    const auto parsed = parse_safetensors_dtype(dtype->string);
    if (!parsed) fail(dtype->offset, where + " has unknown dtype \"" + dtype->string + "\"");
    info.dtype = *parsed;
    require_kind(*shape, detail::json_value::kind::array, where + " shape");
    for (const auto& extent : shape->array) {
      const std::uint64_t d = require_uint(extent, where + " shape entry");
      if (d != 0 && info.element_count > std::numeric_limits<std::uint64_t>::max() / d) {
        fail(extent.offset, where + " shape overflows 64 bits");
      }
      info.element_count *= d;
      info.shape.push_back(d);
    }
    require_kind(*offsets, detail::json_value::kind::array, where + " data_offsets");
    if (offsets->array.size() != 2) fail(offsets->offset, where + " data_offsets must hold [begin, end]");
    info.begin = require_uint(offsets->array[0], where + " data_offsets[0]");
    info.end = require_uint(offsets->array[1], where + " data_offsets[1]");
    if (info.begin > info.end || info.end > data_size) {
      fail(offsets->offset, detail::concat(where, " data_offsets [", info.begin, ", ", info.end,
                                           "] must satisfy begin <= end <= ", data_size, " (the data section size)"));
    }
    const std::uint64_t element_size = size_of(info.dtype);
    if (info.element_count > std::numeric_limits<std::uint64_t>::max() / element_size ||
        info.element_count * element_size != info.end - info.begin) {
      fail(offsets->offset, detail::concat(where, " holds ", info.end - info.begin, " bytes, but ", info.element_count,
                                           " values of ", name_of(info.dtype), " need ",
                                           info.element_count * element_size));
    }
    out.tensors_.push_back(std::move(info));
  }

  // The tensors must tile the data section exactly: no gaps, no overlaps, nothing left over.
  std::vector<const safetensors_tensor_info*> by_offset;
  for (const auto& info : out.tensors_) by_offset.push_back(&info);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t expected = 0;
  for (const auto* info : by_offset) {
    if (info->begin != expected) {
      fail(out.data_offset_ + std::min(info->begin, expected),
           detail::concat("tensor '", info->name, "' starts at data offset ", info->begin, ", but the previous tensor ends at ",
                          expected, " (tensors must not overlap or leave gaps)"));
    }
    expected = info->end;
  }
  if (expected != data_size) {
    fail(out.data_offset_ + expected, detail::concat("the tensors cover ", expected, " bytes of the ", data_size,
                                                     "-byte data section; the file has trailing or missing data"));
  }
  return out;
}

/// Collects tensors and metadata, then writes a safetensors file atomically.
class safetensors_writer {
public:
  /// Sets a `__metadata__` entry (replacing an earlier value for `key`).
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }

  /// Adds a matrix with shape [rows, cols] (row-major on disk whatever Eigen's storage order),
  /// converted to `dtype` (F32, F16 or BF16, rounding to nearest even).
  template <eigen_float_matrix Matrix>
  void add(std::string name, const Matrix& values, safetensors_dtype dtype = safetensors_dtype::f32) {
    std::vector<float> flat;
    flat.reserve(static_cast<std::size_t>(values.size()));
    for (Eigen::Index r = 0; r < values.rows(); ++r) {
      for (Eigen::Index c = 0; c < values.cols(); ++c) flat.push_back(static_cast<float>(values(r, c)));
    }
    add_values(std::move(name), {static_cast<std::uint64_t>(values.rows()), static_cast<std::uint64_t>(values.cols())},
               flat, dtype);
  }

  /// Adds a vector (any Eigen row or column vector) with the one-dimensional shape [size].
  template <eigen_float_matrix Vector>
  void add_vector(std::string name, const Vector& values, safetensors_dtype dtype = safetensors_dtype::f32) {
    detail::require(values.rows() == 1 || values.cols() == 1, "gift::io::safetensors_writer::add_vector: '", name,
                    "' is ", values.rows(), " x ", values.cols(), ", not a vector; use add()");
    std::vector<float> flat;
    flat.reserve(static_cast<std::size_t>(values.size()));
    for (Eigen::Index i = 0; i < values.size(); ++i) flat.push_back(static_cast<float>(values.reshaped()(i)));
    add_values(std::move(name), {static_cast<std::uint64_t>(values.size())}, flat, dtype);
  }

  /// Adds float values in row-major order with an explicit shape of any rank.
  void add_values(std::string name, std::vector<std::uint64_t> shape, std::span<const float> values,
                  safetensors_dtype dtype = safetensors_dtype::f32) {
    std::uint64_t count = 1;
    for (auto d : shape) count *= d;
    detail::require(count == values.size(), "gift::io::safetensors_writer::add_values: '", name, "' has ",
                    values.size(), " values, but its shape holds ", count);
    std::vector<std::byte> bytes;
    const auto put = [&bytes](std::uint64_t bits, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) bytes.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xFF));
    };
    bytes.reserve(values.size() * size_of(dtype));
    switch (dtype) {
      case safetensors_dtype::f32: for (float v : values) put(std::bit_cast<std::uint32_t>(v), 4); break;
      case safetensors_dtype::f16: for (float v : values) put(float_to_half(v), 2); break;
      case safetensors_dtype::bf16: for (float v : values) put(float_to_bfloat16(v), 2); break;
      default:
        throw error(detail::concat("gift::io::safetensors_writer::add_values: '", name, "': dtype ", name_of(dtype),
                                   " is not written from float (use F32, F16 or BF16)"));
    }
    add_raw(std::move(name), dtype, std::move(shape), std::move(bytes));
  }

  /// Adds already-encoded little-endian bytes of any dtype.
  void add_raw(std::string name, safetensors_dtype dtype, std::vector<std::uint64_t> shape, std::vector<std::byte> bytes) {
    detail::require(!name.empty() && name != "__metadata__", "gift::io::safetensors_writer: tensor name '", name,
                    "' is reserved or empty");
    for (const auto& entry : entries_) {
      detail::require(entry.name != name, "gift::io::safetensors_writer: tensor '", name, "' added twice");
    }
    std::uint64_t count = 1;
    for (auto d : shape) count *= d;
    detail::require(count * size_of(dtype) == bytes.size(), "gift::io::safetensors_writer::add_raw: '", name, "' has ",
                    bytes.size(), " bytes, but ", count, " values of ", name_of(dtype), " need ", count * size_of(dtype));
    entries_.push_back({std::move(name), dtype, std::move(shape), std::move(bytes)});
  }

  /// The complete file as bytes: header (padded with spaces to a multiple of 8 so the data is
  /// aligned) followed by the tensors in the order they were added.
  [[nodiscard]] std::vector<std::byte> serialize() const {
    std::string header = "{";
    bool first = true;
    if (!metadata_.empty()) {
      header += "\"__metadata__\":{";
      for (const auto& [key, value] : metadata_) {
        if (!first) header += ',';
        first = false;
        header += detail::json_quote(key) + ":" + detail::json_quote(value);
      }
      header += "}";
    }
    std::uint64_t offset = 0;
    for (const auto& entry : entries_) {
      header += (metadata_.empty() && &entry == &entries_.front()) ? "" : ",";
      header += detail::json_quote(entry.name) + ":{\"dtype\":\"" + std::string(name_of(entry.dtype)) + "\",\"shape\":[";
      for (std::size_t d = 0; d < entry.shape.size(); ++d) {
        if (d != 0) header += ',';
        header += std::to_string(entry.shape[d]);
      }
      header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + entry.bytes.size()) + "]}";
      offset += entry.bytes.size();
    }
    header += "}";
    while ((8 + header.size()) % 8 != 0) header += ' ';
    std::vector<std::byte> out;
    out.reserve(8 + header.size() + offset);
    for (std::size_t i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((header.size() >> (8 * i)) & 0xFF));
    for (char c : header) out.push_back(static_cast<std::byte>(c));
    for (const auto& entry : entries_) out.insert(out.end(), entry.bytes.begin(), entry.bytes.end());
    return out;
  }

  /// Writes the file to `path` through a temporary file in the same folder and a rename.
  void write(const std::filesystem::path& path) const { write_file_atomically(path, serialize()); }

private:
  struct entry {
    std::string name;
    safetensors_dtype dtype;
    std::vector<std::uint64_t> shape;
    std::vector<std::byte> bytes;
  };
  std::vector<entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace gift::io
