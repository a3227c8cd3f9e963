#pragma once
/// \file gift/io/gguf_writer.hpp
/// \brief Writer for GGUF v3 files (the format `gift/io/gguf.hpp` reads): metadata of every
/// value type, tensors encoded from `float` as F32, F16, BF16 or Q8_0, aligned data, written
/// atomically.
///
/// The layout is the reader's (see gguf.hpp): header, metadata, tensor infos, padding to the
/// alignment, then every tensor's data at an offset that is a multiple of the alignment. A
/// 2-D `rows × cols` matrix is stored with ne = [cols, rows] (ne[0] fastest), so `gguf_file::
/// dequantize` gives back the same `rows × cols` matrix.
///
/// Q8_0 encodes blocks of 32 values as an fp16 scale d = max|x| / 127 and 32 int8 codes
/// round(x / d) (halves away from zero), computed in single precision in the order llama.cpp's
/// reference quantizer uses, so the bytes agree with PyPI `gguf`'s `quants.quantize`.
///
/// \code
/// gift::io::gguf_writer out;
/// out.set("general.architecture", gift::io::gguf_value::make(std::string("llama")));
/// out.add_tensor("token_embd.weight", embedding, gift::io::ggml_type::f16);
/// out.write("model.gguf");  // temporary file + rename
/// \endcode

#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/gguf.hpp>
#include <gift/io/gguf_dequant.hpp>
#include <gift/io/half.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gift::io {

/// The GGML types `gguf_writer` can encode from `float`.
[[nodiscard]] constexpr bool gguf_writable(ggml_type type) noexcept {
  return type == ggml_type::f32 || type == ggml_type::f16 || type == ggml_type::bf16 || type == ggml_type::q8_0;
}

/// Encodes `values` (a multiple of the type's block size) as `type` (F32, F16, BF16 or Q8_0) and
/// appends the little-endian bytes to `out`. Throws `gift::error` for another type, a length that
/// is not a whole number of blocks, or a non-finite value (named by its index in `values`).
inline void encode_ggml(ggml_type type, std::span<const float> values, std::vector<std::byte>& out,
                        std::string_view what = "values") {
  const ggml_type_traits& traits = traits_of(type);
  detail::require(gguf_writable(type), "gift::io::encode_ggml: ", what, ": type ", traits.name,
                  " cannot be written (supported: F32, F16, BF16, Q8_0)");
  detail::require(values.size() % traits.block_size == 0, "gift::io::encode_ggml: ", what, ": ", values.size(),
                  " values are not a whole number of ", traits.name, " blocks of ", traits.block_size,
                  "; choose F32, F16 or BF16 for this tensor");
  for (std::size_t i = 0; i < values.size(); ++i) {
    detail::require(std::isfinite(values[i]), "gift::io::encode_ggml: ", what, ": value ", i, " is ", values[i],
                    "; a model file must hold finite numbers (check the weights with gift eval)");
  }
  const auto put = [&out](std::uint64_t bits, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xFFu));
  };
  out.reserve(out.size() + values.size() / traits.block_size * traits.type_size);
  switch (type) {
    case ggml_type::f32: for (const float v : values) put(std::bit_cast<std::uint32_t>(v), 4); break;
    case ggml_type::f16: for (const float v : values) put(float_to_half(v), 2); break;
    case ggml_type::bf16: for (const float v : values) put(float_to_bfloat16(v), 2); break;
    case ggml_type::q8_0:
      for (std::size_t block = 0; block < values.size(); block += 32) {
        float largest = 0.0f;
        for (std::size_t j = 0; j < 32; ++j) largest = std::max(largest, std::abs(values[block + j]));
        const float d = largest / 127.0f;
        const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
        put(float_to_half(d), 2);
        for (std::size_t j = 0; j < 32; ++j) {
          // std::round: halves away from zero, as C's roundf in llama.cpp's reference quantizer.
          const auto q = static_cast<std::int8_t>(std::round(values[block + j] * inverse));
          put(static_cast<std::uint8_t>(q), 1);
        }
      }
      break;
    default: break;  // excluded by gguf_writable above
  }
}

/// Collects metadata and tensors, then writes a GGUF v3 file atomically. Keys and tensor names
/// are unique; metadata keeps the order of first insertion, tensors the order they were added.
class gguf_writer {
public:
  /// Alignment of the data section and of every tensor (GGUF's default 32). A different value
  /// is also stored as `general.alignment`.
  void set_alignment(std::uint32_t alignment) {
    detail::require(alignment > 0 && std::has_single_bit(alignment), "gift::io::gguf_writer::set_alignment: ",
                    "argument 'alignment' must be a power of two, but is ", alignment);
    alignment_ = alignment;
    if (alignment != 32) set("general.alignment", gguf_value::make(alignment));
  }

  /// Sets metadata `key` to `value` (replacing an earlier value, keeping its position). Throws for
  /// an empty key or an array whose elements do not all have its declared element type.
  void set(std::string key, gguf_value value) {
    detail::require(!key.empty(), "gift::io::gguf_writer::set: the metadata key must not be empty");
    check_array(key, value);
    if (const auto it = metadata_index_.find(key); it != metadata_index_.end()) {
      metadata_[it->second].second = std::move(value);
      return;
    }
    metadata_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  /// Sets `key` to a string.
  void set_string(std::string key, std::string value) { set(std::move(key), gguf_value::make(std::move(value))); }
  /// Sets `key` to an array of strings.
  void set_strings(std::string key, const std::vector<std::string>& values) {
    std::vector<gguf_value> elements;
    elements.reserve(values.size());
    for (const auto& v : values) elements.push_back(gguf_value::make(v));
    set(std::move(key), gguf_value::make(std::move(elements), gguf_value_type::string));
  }
  /// Sets `key` to an array of values of one scalar type `T`.
  template <gguf_value_alternative T>
  void set_array(std::string key, const std::vector<T>& values) {
    std::vector<gguf_value> elements;
    elements.reserve(values.size());
    for (const auto& v : values) elements.push_back(gguf_value::make(v));
    set(std::move(key), gguf_value::make(std::move(elements), gguf_value::type_of<T>()));
  }

  /// Whether `key` was set.
  [[nodiscard]] bool has(std::string_view key) const { return metadata_index_.find(key) != metadata_index_.end(); }

  /// Adds a `rows × cols` matrix (any Eigen float expression, row-major on disk) encoded as `type`.
  template <eigen_float_matrix Matrix>
  void add_tensor(std::string name, const Matrix& values, ggml_type type = ggml_type::f32) {
    std::vector<float> flat;
    flat.reserve(static_cast<std::size_t>(values.size()));
    for (Eigen::Index r = 0; r < values.rows(); ++r)
      for (Eigen::Index c = 0; c < values.cols(); ++c) flat.push_back(static_cast<float>(values(r, c)));
    add_values(std::move(name), {static_cast<std::uint64_t>(values.cols()), static_cast<std::uint64_t>(values.rows())},
               flat, type);
  }

  /// Adds a one-dimensional tensor (any Eigen vector) encoded as `type`.
  template <eigen_float_matrix Vector>
  void add_vector(std::string name, const Vector& values, ggml_type type = ggml_type::f32) {
    detail::require(values.rows() == 1 || values.cols() == 1, "gift::io::gguf_writer::add_vector: '", name, "' is ",
                    values.rows(), " x ", values.cols(), ", not a vector; use add_tensor()");
    std::vector<float> flat(static_cast<std::size_t>(values.size()));
    for (Eigen::Index i = 0; i < values.size(); ++i) flat[static_cast<std::size_t>(i)] = static_cast<float>(values.reshaped()(i));
    add_values(std::move(name), {static_cast<std::uint64_t>(values.size())}, flat, type);
  }

  /// Adds values in storage order with GGUF dimensions `shape` (ne[0] first, fastest).
  void add_values(std::string name, std::vector<std::uint64_t> shape, std::span<const float> values,
                  ggml_type type = ggml_type::f32) {
    std::vector<std::byte> bytes;
    encode_ggml(type, values, bytes, detail::concat("tensor '", name, "'"));
    add_raw(std::move(name), type, std::move(shape), std::move(bytes));
  }

  /// Adds already-encoded bytes of any GGML type; their size must match the type and shape.
  void add_raw(std::string name, ggml_type type, std::vector<std::uint64_t> shape, std::vector<std::byte> bytes) {
    const char* where = "gift::io::gguf_writer::add_raw";
    detail::require(!name.empty(), where, ": the tensor name must not be empty");
    detail::require(tensor_index_.find(name) == tensor_index_.end(), where, ": tensor '", name, "' added twice");
    detail::require(!shape.empty() && shape.size() <= 4, where, ": tensor '", name, "' has ", shape.size(),
                    " dimensions; GGUF stores 1 to 4");
    const ggml_type_traits& traits = traits_of(type);
    std::uint64_t count = 1;
    for (const auto d : shape) count *= d;
    detail::require(shape[0] % traits.block_size == 0, where, ": tensor '", name, "' rows of ", shape[0],
                    " values are not a whole number of ", traits.name, " blocks of ", traits.block_size);
    detail::require(count / traits.block_size * traits.type_size == bytes.size(), where, ": tensor '", name, "' has ",
                    bytes.size(), " bytes, but ", count, " values of ", traits.name, " need ",
                    count / traits.block_size * traits.type_size);
    tensor_index_.emplace(name, tensors_.size());
    tensors_.push_back({std::move(name), type, std::move(shape), std::move(bytes)});
  }

  /// Number of tensors added.
  [[nodiscard]] std::size_t tensor_count() const noexcept { return tensors_.size(); }

  /// The complete file as bytes.
  [[nodiscard]] std::vector<std::byte> serialize() const {
    std::vector<std::byte> out;
    std::uint64_t data_bytes = 0;
    for (const auto& t : tensors_) data_bytes += padded(t.bytes.size());
    out.reserve(static_cast<std::size_t>(data_bytes) + 4096);
    const auto put = [&out](std::uint64_t bits, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xFFu));
    };
    const auto put_string = [&](std::string_view text) {
      put(text.size(), 8);
      for (const char c : text) out.push_back(static_cast<std::byte>(c));
    };
    put(0x46554747u, 4);  // "GGUF"
    put(3, 4);
    put(tensors_.size(), 8);
    put(metadata_.size(), 8);
    for (const auto& [key, value] : metadata_) {
      put_string(key);
      put(static_cast<std::uint32_t>(value.type()), 4);
      write_value(value, out);
    }
    std::uint64_t offset = 0;
    for (const auto& t : tensors_) {
      put_string(t.name);
      put(t.shape.size(), 4);
      for (const auto d : t.shape) put(d, 8);
      put(static_cast<std::uint32_t>(t.type), 4);
      put(offset, 8);
      offset += padded(t.bytes.size());
    }
    out.resize(static_cast<std::size_t>(padded(out.size())), std::byte{0});
    for (const auto& t : tensors_) {
      out.insert(out.end(), t.bytes.begin(), t.bytes.end());
      out.resize(static_cast<std::size_t>(padded(out.size())), std::byte{0});
    }
    return out;
  }

  /// Writes the file to `path` through a temporary file in the same folder and a rename.
  void write(const std::filesystem::path& path) const { write_file_atomically(path, serialize()); }

private:
  struct tensor {
    std::string name;
    ggml_type type;
    std::vector<std::uint64_t> shape;
    std::vector<std::byte> bytes;
  };

  [[nodiscard]] std::uint64_t padded(std::uint64_t size) const noexcept {
    return (size + alignment_ - 1) / alignment_ * alignment_;
  }

  static void check_array(const std::string& key, const gguf_value& value) {
    if (value.type() != gguf_value_type::array) return;
    for (const auto& element : value.as_array()) {
      detail::require(element.type() == value.element_type(), "gift::io::gguf_writer::set: metadata '", key,
                      "' is declared an array of ", name_of(value.element_type()), ", but holds a ",
                      name_of(element.type()));
      check_array(key, element);
    }
  }

  static void write_value(const gguf_value& value, std::vector<std::byte>& out) {
    const auto put = [&out](std::uint64_t bits, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<std::byte>((bits >> (8 * i)) & 0xFFu));
    };
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) {
            put(v.size(), 8);
            for (const char c : v) out.push_back(static_cast<std::byte>(c));
          } else if constexpr (std::is_same_v<V, std::vector<gguf_value>>) {
            put(static_cast<std::uint32_t>(value.element_type()), 4);
            put(v.size(), 8);
            for (const auto& element : v) write_value(element, out);
          } else if constexpr (std::is_same_v<V, bool>) {
            put(v ? 1u : 0u, 1);
          } else if constexpr (std::is_same_v<V, float>) {
            put(std::bit_cast<std::uint32_t>(v), 4);
          } else if constexpr (std::is_same_v<V, double>) {
            put(std::bit_cast<std::uint64_t>(v), 8);
          } else {
            put(static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<V>>(v)), sizeof(V));
          }
        },
        value.storage());
  }

  std::uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, gguf_value>> metadata_;
  std::map<std::string, std::size_t, std::less<>> metadata_index_;
  std::vector<tensor> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace gift::io
