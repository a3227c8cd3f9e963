#pragma once
/// \file gift/io/gguf.hpp
/// \brief Reader for GGUF model files (versions 2 and 3, little-endian): metadata of every value
/// type, tensor infos, alignment, and dequantization to `float` matrices in PyTorch layout.
///
/// File layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count; then the
/// metadata (string key, u32 value type, value), the tensor infos (string name, u32 dimension
/// count, u64 dimensions with ne[0] fastest, u32 GGML type, u64 offset into the data section),
/// padding to `general.alignment` (default 32), and the data section. Strings are a u64 byte
/// count followed by the bytes; arrays a u32 element type, a u64 count and the elements.
///
/// Every read is bounds-checked: a truncated or corrupt file throws `gift::error` naming the byte
/// offset and the field, never reads outside the file.
///
/// \code
/// auto file = gift::io::gguf_file::open("model.gguf");
/// auto layers = file.metadata("llama.block_count").as_uint();
/// auto weight = file.dequantize("blk.0.attn_q.weight");  // out x in, row-major float
/// \endcode

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/gguf_dequant.hpp>
#include <gift/io/mapped_file.hpp>

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace gift::detail {
struct gguf_parser;
}  // namespace gift::detail

namespace gift::io {

/// The metadata value types of GGUF, with their on-disk numbers.
enum class gguf_value_type : std::uint32_t {
  uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, boolean = 7,
  string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};

/// The GGUF name of a value type, e.g. "uint32".
[[nodiscard]] constexpr std::string_view name_of(gguf_value_type type) noexcept {
  constexpr std::string_view names[] = {"uint8",   "int8",   "uint16", "int16", "uint32",
                                        "int32",   "float32", "bool",  "string", "array",
                                        "uint64",  "int64",  "float64"};
  const auto index = static_cast<std::uint32_t>(type);
  return index < std::size(names) ? names[index] : std::string_view("unknown");
}

/// Writes the GGUF name of `type`.
inline std::ostream& operator<<(std::ostream& out, gguf_value_type type) { return out << name_of(type); }

class gguf_value;

/// The C++ types a GGUF metadata value can hold: the alternatives of `gguf_value`.
template <class T>
concept gguf_value_alternative =
    std::same_as<T, std::uint8_t> || std::same_as<T, std::int8_t> || std::same_as<T, std::uint16_t> ||
    std::same_as<T, std::int16_t> || std::same_as<T, std::uint32_t> || std::same_as<T, std::int32_t> ||
    std::same_as<T, float> || std::same_as<T, bool> || std::same_as<T, std::string> ||
    std::same_as<T, std::vector<gguf_value>> || std::same_as<T, std::uint64_t> ||
    std::same_as<T, std::int64_t> || std::same_as<T, double>;

/// One metadata value: a scalar, a string, or an array (of scalars, strings or arrays).
///
/// Typed access comes in two strengths: `get<T>()` demands the exact stored type (a `uint32`
/// must be read as `std::uint32_t`), while `as_int()`, `as_uint()`, `as_float()` convert between
/// numeric types whenever the value fits. Both throw `gift::error` naming the key on mismatch.
class gguf_value {
public:
  /// Storage; the alternative index equals the on-disk `gguf_value_type` number.
  using storage_type = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t,
                                    std::uint32_t, std::int32_t, float, bool, std::string,
                                    std::vector<gguf_value>, std::uint64_t, std::int64_t, double>;

  /// A `uint8` zero; real values come from the parser or from `make`.
  gguf_value() = default;

  /// A value holding `value`; arrays also need `element_type` (the declared type of their
  /// elements, which an empty array cannot reveal otherwise).
  template <gguf_value_alternative T>
  [[nodiscard]] static gguf_value make(T value, gguf_value_type element_type = gguf_value_type::uint8) {
    gguf_value out;
    // in_place_type: the converting constructor of a variant that contains vector<gguf_value>
    // would make the compiler recurse through gguf_value's own constructibility.
    out.storage_.template emplace<T>(std::move(value));
    out.element_type_ = element_type;
    return out;
  }

  /// The `gguf_value_type` that stores C++ type `T`.
  template <gguf_value_alternative T>
  [[nodiscard]] static constexpr gguf_value_type type_of() noexcept {
    if constexpr (std::is_same_v<T, std::uint8_t>) return gguf_value_type::uint8;
    else if constexpr (std::is_same_v<T, std::int8_t>) return gguf_value_type::int8;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return gguf_value_type::uint16;
    else if constexpr (std::is_same_v<T, std::int16_t>) return gguf_value_type::int16;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return gguf_value_type::uint32;
    else if constexpr (std::is_same_v<T, std::int32_t>) return gguf_value_type::int32;
    else if constexpr (std::is_same_v<T, float>) return gguf_value_type::float32;
    else if constexpr (std::is_same_v<T, bool>) return gguf_value_type::boolean;
    else if constexpr (std::is_same_v<T, std::string>) return gguf_value_type::string;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return gguf_value_type::uint64;
    else if constexpr (std::is_same_v<T, std::int64_t>) return gguf_value_type::int64;
    else if constexpr (std::is_same_v<T, double>) return gguf_value_type::float64;
    else return gguf_value_type::array;
  }

  /// The stored type.
  [[nodiscard]] gguf_value_type type() const noexcept {
    return static_cast<gguf_value_type>(storage_.index());
  }
  /// The declared element type of an array; throws for a non-array.
  [[nodiscard]] gguf_value_type element_type() const {
    require_type(gguf_value_type::array, "element_type");
    return element_type_;
  }
  /// The metadata key this value was stored under ("" for array elements), for messages.
  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  /// The underlying variant, for `std::visit`.
  [[nodiscard]] const storage_type& storage() const noexcept { return storage_; }

  /// The value as exactly type `T`; throws `gift::error` if another type is stored.
  template <gguf_value_alternative T>
  [[nodiscard]] const T& get() const {
    const T* value = std::get_if<T>(&storage_);
    if (value == nullptr) {
      throw error(detail::concat("gift::io::gguf_value::get: ", describe(), " holds ", name_of(type()),
                                 ", not the requested type; use get<> with the stored type or "
                                 "as_int()/as_uint()/as_float() to convert"));
    }
    return *value;
  }

  /// Any integer value as `int64_t`; throws for non-integers and for a uint64 above INT64_MAX.
  [[nodiscard]] std::int64_t as_int() const {
    if (const auto* big = std::get_if<std::uint64_t>(&storage_)) {
      detail::require(*big <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
                      "gift::io::gguf_value::as_int: ", describe(), " is ", *big,
                      ", which does not fit int64; use as_uint()");
      return static_cast<std::int64_t>(*big);
    }
    return std::visit(
        [this](const auto& v) -> std::int64_t {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
            return static_cast<std::int64_t>(v);
          } else {
            throw error(detail::concat("gift::io::gguf_value::as_int: ", describe(), " is ",
                                       name_of(type()), ", not an integer"));
          }
        },
        storage_);
  }

  /// Any non-negative integer value as `uint64_t`; throws for negatives and non-integers.
  [[nodiscard]] std::uint64_t as_uint() const {
    if (const auto* big = std::get_if<std::uint64_t>(&storage_)) return *big;
    const std::int64_t value = as_int();
    detail::require(value >= 0, "gift::io::gguf_value::as_uint: ", describe(), " is ", value,
                    ", which is negative");
    return static_cast<std::uint64_t>(value);
  }

  /// Any numeric (integer or floating-point) value as `double`.
  [[nodiscard]] double as_float() const {
    return std::visit(
        [this](const auto& v) -> double {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_arithmetic_v<V> && !std::is_same_v<V, bool>) {
            return static_cast<double>(v);
          } else {
            throw error(detail::concat("gift::io::gguf_value::as_float: ", describe(), " is ",
                                       name_of(type()), ", not a number"));
          }
        },
        storage_);
  }

  /// A `bool` value.
  [[nodiscard]] bool as_bool() const { return get<bool>(); }
  /// A `string` value (bytes as stored; GGUF strings are meant to be UTF-8).
  [[nodiscard]] const std::string& as_string() const { return get<std::string>(); }
  /// The elements of an array value.
  [[nodiscard]] std::span<const gguf_value> as_array() const { return get<std::vector<gguf_value>>(); }
  /// Number of elements of an array value.
  [[nodiscard]] std::size_t size() const { return as_array().size(); }

  /// An array whose elements are all exactly `T`, copied into a vector (e.g. the token strings
  /// as `array_of<std::string>()`); throws if the element type differs.
  template <gguf_value_alternative T>
  [[nodiscard]] std::vector<T> array_of() const {
    const auto elements = as_array();
    constexpr gguf_value_type wanted = type_of<T>();
    detail::require(element_type_ == wanted, "gift::io::gguf_value::array_of: ", describe(),
                    " is an array of ", name_of(element_type_), ", not of ", name_of(wanted));
    std::vector<T> out;
    out.reserve(elements.size());
    for (const auto& element : elements) out.push_back(element.get<T>());
    return out;
  }

  /// A short human-readable rendering (arrays show their first `max_elements` elements).
  [[nodiscard]] std::string to_string(std::size_t max_elements = 8) const {
    std::ostringstream out;
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) {
            out << '"' << v << '"';
          } else if constexpr (std::is_same_v<V, std::vector<gguf_value>>) {
            out << name_of(element_type_) << '[' << v.size() << "] {";
            for (std::size_t i = 0; i < v.size() && i < max_elements; ++i) {
              out << (i ? ", " : "") << v[i].to_string(max_elements);
            }
            out << (v.size() > max_elements ? ", ...}" : "}");
          } else if constexpr (std::is_same_v<V, bool>) {
            out << (v ? "true" : "false");
          } else if constexpr (sizeof(V) == 1) {
            out << static_cast<int>(v);
          } else {
            out << v;
          }
        },
        storage_);
    return out.str();
  }

private:
  friend class gguf_file;
  friend struct gift::detail::gguf_parser;

  [[nodiscard]] std::string describe() const {
    return key_.empty() ? std::string("GGUF value") : detail::concat("GGUF metadata '", key_, "'");
  }
  void require_type(gguf_value_type wanted, const char* what) const {
    detail::require(type() == wanted, "gift::io::gguf_value::", what, ": ", describe(), " is ",
                    name_of(type()), ", not ", name_of(wanted));
  }

  storage_type storage_{};
  gguf_value_type element_type_ = gguf_value_type::uint8;
  std::string key_;
};

/// One metadata entry: key and value, in file order.
struct gguf_metadata_entry {
  std::string key;   ///< e.g. "llama.block_count"
  gguf_value value;  ///< the value (its `key()` is `key`)
};

/// Where and how one tensor is stored.
struct gguf_tensor_info {
  std::string name;                  ///< e.g. "blk.0.attn_q.weight"
  ggml_type type = ggml_type::f32;   ///< element type
  std::vector<std::uint64_t> shape;  ///< GGUF order: shape[0] (ne[0]) varies fastest
  std::uint64_t offset = 0;          ///< offset from the start of the data section
  std::uint64_t file_offset = 0;     ///< absolute offset of the first byte in the file
  std::uint64_t element_count = 0;   ///< product of `shape`
  std::uint64_t byte_size = 0;       ///< bytes in the file

  /// Values per row: ne[0] (the `in` dimension of a weight).
  [[nodiscard]] std::uint64_t columns() const noexcept { return shape.empty() ? 0 : shape[0]; }
  /// Number of rows: the product of ne[1..] (the `out` dimension of a 2-D weight; 1 for 1-D).
  [[nodiscard]] std::uint64_t rows() const noexcept {
    return shape.empty() || shape[0] == 0 ? 0 : element_count / shape[0];
  }
};

/// A parsed GGUF file: metadata and tensor infos in memory, tensor data left in the (mapped)
/// file and decoded on request. Move-only.
class gguf_file {
public:
  /// Maps and parses the file at `path`. Throws `gift::error` (naming path, byte offset and
  /// field) if it cannot be read or is not a valid GGUF v2/v3 file.
  [[nodiscard]] static gguf_file open(const std::filesystem::path& path) {
    return parse(mapped_file::open(path));
  }
  /// Parses bytes already in memory (or mapped); `file.name()` is used in messages.
  [[nodiscard]] static gguf_file parse(mapped_file file);

  /// The format version (2 or 3).
  [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
  /// Alignment of tensor data in bytes (`general.alignment`, default 32).
  [[nodiscard]] std::uint64_t alignment() const noexcept { return alignment_; }
  /// Absolute offset of the data section.
  [[nodiscard]] std::uint64_t data_offset() const noexcept { return data_offset_; }
  /// Size of the file in bytes.
  [[nodiscard]] std::uint64_t file_size() const noexcept { return file_.size(); }
  /// The path or name the file was opened from.
  [[nodiscard]] const std::string& name() const noexcept { return file_.name(); }

  /// All metadata entries in file order.
  [[nodiscard]] std::span<const gguf_metadata_entry> metadata() const noexcept { return metadata_; }
  /// The value under `key`; throws `gift::error` naming the key if there is none.
  [[nodiscard]] const gguf_value& metadata(std::string_view key) const {
    const gguf_value* value = find_metadata(key);
    detail::require(value != nullptr, "gift::io::gguf_file::metadata: '", name(), "' has no key '",
                    key, "'; list the keys with metadata()");
    return *value;
  }
  /// The value under `key`, or `nullptr`.
  [[nodiscard]] const gguf_value* find_metadata(std::string_view key) const noexcept {
    const auto it = metadata_index_.find(key);
    return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
  }
  /// Whether `key` is present.
  [[nodiscard]] bool has_metadata(std::string_view key) const noexcept { return find_metadata(key) != nullptr; }

  /// All tensor infos in file order.
  [[nodiscard]] std::span<const gguf_tensor_info> tensors() const noexcept { return tensors_; }
  /// The tensor called `name`; throws `gift::error` if there is none.
  [[nodiscard]] const gguf_tensor_info& tensor(std::string_view name) const {
    const gguf_tensor_info* info = find_tensor(name);
    detail::require(info != nullptr, "gift::io::gguf_file::tensor: '", this->name(),
                    "' has no tensor '", name, "'; list them with tensors()");
    return *info;
  }
  /// The tensor called `name`, or `nullptr`.
  [[nodiscard]] const gguf_tensor_info* find_tensor(std::string_view name) const noexcept {
    const auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
  }
  /// The raw stored bytes of a tensor.
  [[nodiscard]] std::span<const std::byte> tensor_data(const gguf_tensor_info& info) const noexcept {
    return file_.bytes().subspan(static_cast<std::size_t>(info.file_offset),
                                 static_cast<std::size_t>(info.byte_size));
  }

  /// Decodes all values of `info` in storage order into `out` (size = element count).
  void dequantize_into(const gguf_tensor_info& info, std::span<float> out) const {
    detail::require(out.size() == info.element_count, "gift::io::gguf_file::dequantize_into: tensor '",
                    info.name, "' has ", info.element_count, " values, but the output holds ", out.size());
    dequantize_row(info.type, tensor_data(info), out);
  }
  /// The tensor as a row-major `rows() × columns()` matrix: a 2-D weight stored with
  /// ne = [in, out] becomes `out × in` (PyTorch layout); a 1-D tensor becomes one row.
  [[nodiscard]] gift::matrix<float> dequantize(std::string_view name) const {
    const gguf_tensor_info& info = tensor(name);
    gift::matrix<float> out(static_cast<Eigen::Index>(info.rows()), static_cast<Eigen::Index>(info.columns()));
    dequantize_into(info, {out.data(), static_cast<std::size_t>(out.size())});
    return out;
  }
  /// The tensor's values in storage order as a vector (natural for 1-D tensors such as norms).
  [[nodiscard]] gift::vector<float> dequantize_vector(std::string_view name) const {
    const gguf_tensor_info& info = tensor(name);
    gift::vector<float> out(static_cast<Eigen::Index>(info.element_count));
    dequantize_into(info, {out.data(), static_cast<std::size_t>(out.size())});
    return out;
  }

private:
  friend struct gift::detail::gguf_parser;
  gguf_file() = default;

  mapped_file file_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<gguf_metadata_entry> metadata_;
  std::vector<gguf_tensor_info> tensors_;
  std::map<std::string, std::size_t, std::less<>> metadata_index_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace gift::io

namespace gift::detail {

/// The bounds-checked GGUF parser. Every read names its field so that a failure says where the
/// file went wrong: "byte offset 24, field 'metadata[0].key'".
struct gguf_parser {
  /// Nested arrays deeper than this are rejected (they would only serve to exhaust the stack).
  static constexpr int max_array_depth = 16;

  std::span<const std::byte> bytes;
  const std::string& source;
  std::size_t pos = 0;

  [[noreturn]] void fail(std::size_t at, std::string_view field, const std::string& what) const {
    throw error(concat("gift::io::gguf_file: '", source, "': byte offset ", at, ", field '",
                               field, "': ", what));
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return bytes.size() - pos; }

  template <class Field>
  void need(std::size_t count, const Field& field) const {
    if (count > remaining()) {
      fail(pos, field(), concat("needs ", count, " bytes but only ", remaining(),
                                        " remain (file size ", bytes.size(),
                                        "); the file is truncated or corrupt"));
    }
  }

  template <class T, class Field>
  T read(const Field& field) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), field);
    std::uint64_t bits = 0;  // assemble little-endian so the host byte order does not matter
    for (std::size_t i = sizeof(T); i-- > 0;) bits = (bits << 8) | std::to_integer<std::uint64_t>(bytes[pos + i]);
    pos += sizeof(T);
    if constexpr (std::is_same_v<T, float>) {
      return std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    } else if constexpr (std::is_same_v<T, double>) {
      return std::bit_cast<double>(bits);
    } else if constexpr (std::is_same_v<T, bool>) {
      return bits != 0;
    } else {
      return static_cast<T>(bits);
    }
  }

  template <class Field>
  std::string read_string(const Field& field) {
    const std::size_t start = pos;
    const auto length = read<std::uint64_t>([&] { return concat(field(), " (string length)"); });
    if (length > remaining()) {
      fail(start, field(), concat("string length ", length, " runs past the end of the file (",
                                          remaining(), " bytes remain after the length)"));
    }
    std::string out(reinterpret_cast<const char*>(bytes.data() + pos), static_cast<std::size_t>(length));
    pos += static_cast<std::size_t>(length);
    return out;
  }

  /// Smallest number of bytes one value of `type` occupies (bounds array counts early).
  static std::size_t min_size(io::gguf_value_type type) noexcept {
    switch (type) {
      case io::gguf_value_type::uint8: case io::gguf_value_type::int8: case io::gguf_value_type::boolean: return 1;
      case io::gguf_value_type::uint16: case io::gguf_value_type::int16: return 2;
      case io::gguf_value_type::uint32: case io::gguf_value_type::int32: case io::gguf_value_type::float32: return 4;
      case io::gguf_value_type::uint64: case io::gguf_value_type::int64: case io::gguf_value_type::float64:
      case io::gguf_value_type::string: return 8;
      case io::gguf_value_type::array: return 12;
    }
    return 1;
  }

  template <class Field>
  io::gguf_value_type read_type(const Field& field) {
    const std::size_t start = pos;
    const auto raw = read<std::uint32_t>(field);
    if (raw > static_cast<std::uint32_t>(io::gguf_value_type::float64)) {
      fail(start, field(), concat("unknown value type ", raw,
                                          " (GGUF defines 0..12); the file is corrupt or newer than this reader"));
    }
    return static_cast<io::gguf_value_type>(raw);
  }

  /// Names a (possibly nested) value for messages without building strings on the happy path;
  /// array elements chain to their parent ("metadata 'tokens'[5]").
  struct field_path {
    const field_path* parent = nullptr;
    std::string_view label;
    std::uint64_t index = 0;
    [[nodiscard]] std::string operator()() const {
      return parent == nullptr ? std::string(label) : concat((*parent)(), '[', index, ']');
    }
  };

  // Not a template on the field: each nesting level would otherwise instantiate a new lambda
  // type, and the compiler would recurse without end.
  io::gguf_value read_value(io::gguf_value_type type, const field_path& field, int depth) {
    switch (type) {
      case io::gguf_value_type::uint8: return io::gguf_value::make(read<std::uint8_t>(field));
      case io::gguf_value_type::int8: return io::gguf_value::make(read<std::int8_t>(field));
      case io::gguf_value_type::uint16: return io::gguf_value::make(read<std::uint16_t>(field));
      case io::gguf_value_type::int16: return io::gguf_value::make(read<std::int16_t>(field));
      case io::gguf_value_type::uint32: return io::gguf_value::make(read<std::uint32_t>(field));
      case io::gguf_value_type::int32: return io::gguf_value::make(read<std::int32_t>(field));
      case io::gguf_value_type::float32: return io::gguf_value::make(read<float>(field));
      case io::gguf_value_type::uint64: return io::gguf_value::make(read<std::uint64_t>(field));
      case io::gguf_value_type::int64: return io::gguf_value::make(read<std::int64_t>(field));
      case io::gguf_value_type::float64: return io::gguf_value::make(read<double>(field));
      case io::gguf_value_type::boolean: {
        const std::size_t start = pos;
        const auto raw = read<std::uint8_t>(field);
        if (raw > 1) fail(start, field(), concat("bool must be 0 or 1, found ", static_cast<int>(raw)));
        return io::gguf_value::make(raw == 1);
      }
      case io::gguf_value_type::string: return io::gguf_value::make(read_string(field));
      case io::gguf_value_type::array: {
        const std::size_t start = pos;
        if (depth >= max_array_depth) {
          fail(start, field(), concat("arrays nested deeper than ", max_array_depth, " levels"));
        }
        const io::gguf_value_type element_type = read_type([&] { return concat(field(), " (array element type)"); });
        const std::size_t count_at = pos;
        const auto count = read<std::uint64_t>([&] { return concat(field(), " (array length)"); });
        if (count > remaining() / min_size(element_type)) {
          fail(count_at, concat(field(), " (array length)"), concat("array of ", count, " ", io::name_of(element_type),
                                                 " elements cannot fit in the ", remaining(),
                                                 " bytes left in the file"));
        }
        std::vector<io::gguf_value> elements;
        elements.reserve(static_cast<std::size_t>(count));
        for (std::uint64_t i = 0; i < count; ++i) {
          elements.push_back(read_value(element_type, field_path{&field, {}, i}, depth + 1));
        }
        return io::gguf_value::make(std::move(elements), element_type);
      }
    }
    fail(pos, field(), "unreachable value type");
  }

  [[nodiscard]] static bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
    out = a * b;
    return true;
  }

  void run(io::gguf_file& out) {
    // magic
    need(4, [] { return std::string("header.magic"); });
    if (std::to_integer<char>(bytes[0]) != 'G' || std::to_integer<char>(bytes[1]) != 'G' ||
        std::to_integer<char>(bytes[2]) != 'U' || std::to_integer<char>(bytes[3]) != 'F') {
      std::ostringstream found;
      found << std::hex;
      for (int i = 0; i < 4; ++i) found << (i ? " " : "") << std::to_integer<int>(bytes[static_cast<std::size_t>(i)]);
      fail(0, "header.magic", "expected the bytes 'GGUF' (47 47 55 46), found " + found.str() +
                                  "; this is not a GGUF file");
    }
    pos = 4;
    out.version_ = read<std::uint32_t>([] { return std::string("header.version"); });
    if (out.version_ != 2 && out.version_ != 3) {
      fail(4, "header.version",
           concat("unsupported version ", out.version_,
                          " (this reader handles little-endian GGUF v2 and v3; v1 files must be "
                          "converted, big-endian files read as a byte-swapped version)"));
    }
    const std::size_t tensor_count_at = pos;
    const auto tensor_count = read<std::uint64_t>([] { return std::string("header.tensor_count"); });
    const std::size_t kv_count_at = pos;
    const auto kv_count = read<std::uint64_t>([] { return std::string("header.metadata_kv_count"); });
    // Each entry needs at least a string length (8), a type (4) and a 1-byte value; each tensor
    // info at least a name length (8), a dimension count (4), one dimension (8), type and offset.
    if (kv_count > remaining() / 13) {
      fail(kv_count_at, "header.metadata_kv_count",
           concat(kv_count, " entries cannot fit in the ", remaining(), " bytes left in the file"));
    }
    if (tensor_count > remaining() / 32) {
      fail(tensor_count_at, "header.tensor_count",
           concat(tensor_count, " tensor infos cannot fit in the ", remaining(), " bytes left in the file"));
    }

    out.metadata_.reserve(static_cast<std::size_t>(kv_count));
    for (std::uint64_t i = 0; i < kv_count; ++i) {
      const std::size_t key_at = pos;
      std::string key = read_string([&] { return concat("metadata[", i, "].key"); });
      if (out.metadata_index_.count(key) != 0) {
        fail(key_at, concat("metadata[", i, "].key"), "duplicate key '" + key + "'");
      }
      const auto type = read_type([&] { return concat("metadata '", key, "' (value type)"); });
      const std::string label = concat("metadata '", key, "'");
      io::gguf_value value = read_value(type, field_path{nullptr, label, 0}, 0);
      value.key_ = key;
      out.metadata_index_.emplace(key, out.metadata_.size());
      out.metadata_.push_back({std::move(key), std::move(value)});
    }

    if (const auto it = out.metadata_index_.find("general.alignment"); it != out.metadata_index_.end()) {
      const io::gguf_value& alignment = out.metadata_[it->second].value;
      if (alignment.type() != io::gguf_value_type::uint32) {
        fail(0, "metadata 'general.alignment'",
             concat("must be uint32, found ", io::name_of(alignment.type())));
      }
      const std::uint32_t value = alignment.get<std::uint32_t>();
      if (value == 0 || !std::has_single_bit(value)) {
        fail(0, "metadata 'general.alignment'", concat("must be a power of two, found ", value));
      }
      out.alignment_ = value;
    }

    out.tensors_.reserve(static_cast<std::size_t>(tensor_count));
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
      io::gguf_tensor_info info;
      const std::size_t name_at = pos;
      info.name = read_string([&] { return concat("tensor_info[", i, "].name"); });
      if (out.tensor_index_.count(info.name) != 0) {
        fail(name_at, concat("tensor_info[", i, "].name"), "duplicate tensor name '" + info.name + "'");
      }
      const auto where = [&](std::string_view what) {
        return concat("tensor_info[", i, "] '", info.name, "' ", what);
      };
      const std::size_t dims_at = pos;
      const auto n_dims = read<std::uint32_t>([&] { return where("n_dims"); });
      if (n_dims < 1 || n_dims > 4) {
        fail(dims_at, where("n_dims"), concat("must be 1..4 (GGML's limit), found ", n_dims));
      }
      info.shape.resize(n_dims);
      info.element_count = 1;
      for (std::uint32_t d = 0; d < n_dims; ++d) {
        const std::size_t dim_at = pos;
        info.shape[d] = read<std::uint64_t>([&] { return where(concat("ne[", d, "]")); });
        if (info.shape[d] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
            !checked_mul(info.element_count, info.shape[d], info.element_count) ||
            info.element_count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          fail(dim_at, where(concat("ne[", d, "]")),
               concat("dimension ", info.shape[d], " makes the element count overflow int64"));
        }
      }
      const std::size_t type_at = pos;
      const auto raw_type = read<std::uint32_t>([&] { return where("type"); });
      const io::ggml_type_traits* traits = io::find_ggml_type(raw_type);
      if (traits == nullptr) {
        fail(type_at, where("type"), concat("unknown GGML tensor type ", raw_type));
      }
      info.type = traits->type;
      if (info.shape[0] % traits->block_size != 0) {
        fail(dims_at, where("ne[0]"), concat("row length ", info.shape[0], " is not a multiple of the ",
                                                     traits->name, " block size ", traits->block_size));
      }
      if (!checked_mul(info.element_count / traits->block_size, traits->type_size, info.byte_size)) {
        fail(dims_at, where("shape"), "byte size overflows 64 bits");
      }
      const std::size_t offset_at = pos;
      info.offset = read<std::uint64_t>([&] { return where("offset"); });
      if (info.offset % out.alignment_ != 0) {
        fail(offset_at, where("offset"), concat("data offset ", info.offset,
                                                        " is not a multiple of the alignment ", out.alignment_));
      }
      out.tensor_index_.emplace(info.name, out.tensors_.size());
      out.tensors_.push_back(std::move(info));
    }

    // The data section starts at the next multiple of the alignment after the tensor infos.
    const std::uint64_t padding = (out.alignment_ - pos % out.alignment_) % out.alignment_;
    out.data_offset_ = pos + padding;
    for (std::size_t i = 0; i < out.tensors_.size(); ++i) {
      io::gguf_tensor_info& info = out.tensors_[i];
      const std::uint64_t size = bytes.size();
      if (out.data_offset_ > size || info.offset > size - out.data_offset_ ||
          info.byte_size > size - out.data_offset_ - info.offset) {
        fail(static_cast<std::size_t>(std::min<std::uint64_t>(out.data_offset_, size)),
             concat("tensor_info[", i, "] '", info.name, "' data"),
             concat(info.byte_size, " bytes at data offset ", info.offset, " (absolute ",
                            out.data_offset_, " + ", info.offset, ") run past the end of the file (",
                            size, " bytes); the file is truncated"));
      }
      info.file_offset = out.data_offset_ + info.offset;
    }
    // No two tensors may share bytes: a crafted file could otherwise make one tensor's data
    // alias another's (llama.cpp's loader checks the same).
    std::vector<std::size_t> order(out.tensors_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return out.tensors_[a].offset < out.tensors_[b].offset; });
    for (std::size_t k = 1; k < order.size(); ++k) {
      const io::gguf_tensor_info& previous = out.tensors_[order[k - 1]];
      const io::gguf_tensor_info& next = out.tensors_[order[k]];
      if (previous.byte_size > 0 && next.byte_size > 0 && previous.offset + previous.byte_size > next.offset) {
        fail(static_cast<std::size_t>(out.data_offset_), concat("tensor_info[", order[k], "] '", next.name, "' data"),
             concat("bytes [", next.offset, ", ", next.offset + next.byte_size, ") of the data section overlap '",
                    previous.name, "' at [", previous.offset, ", ", previous.offset + previous.byte_size,
                    "); the file is corrupt"));
      }
    }
  }
};

}  // namespace gift::detail

namespace gift::io {

inline gguf_file gguf_file::parse(mapped_file file) {
  gguf_file out;
  out.file_ = std::move(file);
  detail::gguf_parser parser{out.file_.bytes(), out.file_.name()};
  parser.run(out);
  return out;
}

}  // namespace gift::io
