#pragma once
/// \file gift/io/gguf_dequant.hpp
/// \brief GGML tensor types (block sizes and byte sizes of every type a GGUF file may declare)
/// and dequantization of F32, F16, BF16, Q4_0, Q4_1, Q8_0 and Q6_K to `float`.
///
/// Block layouts, as documented by the GGML format (all little-endian, `half` = IEEE binary16):
/// - Q4_0 (32 values, 18 bytes): `half d; u8 qs[16]`; value j is `d * (nibble_j - 8)`, where the
///   low nibbles of `qs` hold values 0..15 and the high nibbles values 16..31.
/// - Q4_1 (32 values, 20 bytes): `half d; half m; u8 qs[16]`; value j is `d * nibble_j + m`.
/// - Q8_0 (32 values, 34 bytes): `half d; i8 qs[32]`; value j is `d * qs[j]`.
/// - Q6_K (256 values, 210 bytes): `u8 ql[128]; u8 qh[64]; i8 scales[16]; half d`. Each half of
///   the block (128 values) uses 64 bytes of `ql` (low 4 bits), 32 of `qh` (high 2 bits) and 8
///   scales; a 6-bit value minus 32 times `d * scale` gives the weight, one scale per 16 values.

#include <gift/error.hpp>
#include <gift/io/half.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace gift::io {

/// The tensor element types of the GGML format, with their on-disk numbers.
enum class ggml_type : std::uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22,
  iq4_xs = 23, i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
  tq1_0 = 34, tq2_0 = 35, mxfp4 = 39,
};

/// What a reader must know about a GGML type to size and decode a tensor.
struct ggml_type_traits {
  ggml_type type;             ///< the type
  std::string_view name;      ///< upper-case name as GGML spells it, e.g. "Q4_1"
  std::uint32_t block_size;   ///< values per block (1 for plain types)
  std::uint32_t type_size;    ///< bytes per block
  bool dequantizable;         ///< whether `dequantize_row` supports it
};

}  // namespace gift::io

namespace gift::detail {
inline constexpr std::array<io::ggml_type_traits, 32> ggml_type_table{{
    {io::ggml_type::f32, "F32", 1, 4, true},         {io::ggml_type::f16, "F16", 1, 2, true},
    {io::ggml_type::q4_0, "Q4_0", 32, 18, true},     {io::ggml_type::q4_1, "Q4_1", 32, 20, true},
    {io::ggml_type::q5_0, "Q5_0", 32, 22, false},    {io::ggml_type::q5_1, "Q5_1", 32, 24, false},
    {io::ggml_type::q8_0, "Q8_0", 32, 34, true},     {io::ggml_type::q8_1, "Q8_1", 32, 40, false},
    {io::ggml_type::q2_k, "Q2_K", 256, 84, false},   {io::ggml_type::q3_k, "Q3_K", 256, 110, false},
    {io::ggml_type::q4_k, "Q4_K", 256, 144, false},  {io::ggml_type::q5_k, "Q5_K", 256, 176, false},
    {io::ggml_type::q6_k, "Q6_K", 256, 210, true},   {io::ggml_type::q8_k, "Q8_K", 256, 292, false},
    {io::ggml_type::iq2_xxs, "IQ2_XXS", 256, 66, false}, {io::ggml_type::iq2_xs, "IQ2_XS", 256, 74, false},
    {io::ggml_type::iq3_xxs, "IQ3_XXS", 256, 98, false}, {io::ggml_type::iq1_s, "IQ1_S", 256, 50, false},
    {io::ggml_type::iq4_nl, "IQ4_NL", 32, 18, false},    {io::ggml_type::iq3_s, "IQ3_S", 256, 110, false},
    {io::ggml_type::iq2_s, "IQ2_S", 256, 82, false},     {io::ggml_type::iq4_xs, "IQ4_XS", 256, 136, false},
    {io::ggml_type::i8, "I8", 1, 1, false},          {io::ggml_type::i16, "I16", 1, 2, false},
    {io::ggml_type::i32, "I32", 1, 4, false},        {io::ggml_type::i64, "I64", 1, 8, false},
    {io::ggml_type::f64, "F64", 1, 8, false},        {io::ggml_type::iq1_m, "IQ1_M", 256, 56, false},
    {io::ggml_type::bf16, "BF16", 1, 2, true},       {io::ggml_type::tq1_0, "TQ1_0", 256, 54, false},
    {io::ggml_type::tq2_0, "TQ2_0", 256, 66, false}, {io::ggml_type::mxfp4, "MXFP4", 32, 17, false},
}};

/// Reads a little-endian unsigned 16-bit value from possibly unaligned bytes.
[[nodiscard]] inline std::uint16_t load_u16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                    (std::to_integer<unsigned>(p[1]) << 8));
}
/// Reads a little-endian binary16 from possibly unaligned bytes.
[[nodiscard]] inline float load_half(const std::byte* p) noexcept { return io::half_to_float(load_u16(p)); }
/// Reads a little-endian float from possibly unaligned bytes.
[[nodiscard]] inline float load_f32(const std::byte* p) noexcept {
  std::uint32_t bits = 0;
  for (int i = 3; i >= 0; --i) bits = (bits << 8) | std::to_integer<std::uint32_t>(p[i]);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}
/// The unsigned value of byte `p[i]`.
[[nodiscard]] inline unsigned byte_at(const std::byte* p, std::size_t i) noexcept {
  return std::to_integer<unsigned>(p[i]);
}
/// The signed (two's complement) value of byte `p[i]`.
[[nodiscard]] inline int signed_byte_at(const std::byte* p, std::size_t i) noexcept {
  const int value = static_cast<int>(byte_at(p, i));
  return value >= 128 ? value - 256 : value;
}
}  // namespace gift::detail

namespace gift::io {

/// Traits of the type with on-disk number `raw`, or `nullptr` for a number GGML does not define
/// (so a reader can reject it instead of guessing its size).
[[nodiscard]] inline const ggml_type_traits* find_ggml_type(std::uint32_t raw) noexcept {
  for (const auto& traits : detail::ggml_type_table) {
    if (static_cast<std::uint32_t>(traits.type) == raw) return &traits;
  }
  return nullptr;
}

/// Traits of a known type.
[[nodiscard]] inline const ggml_type_traits& traits_of(ggml_type type) noexcept {
  return *find_ggml_type(static_cast<std::uint32_t>(type));
}

/// The GGML name of `type`, e.g. "Q4_1".
[[nodiscard]] inline std::string_view name_of(ggml_type type) noexcept { return traits_of(type).name; }

/// Writes the GGML name of `type`.
inline std::ostream& operator<<(std::ostream& out, ggml_type type) { return out << name_of(type); }

/// Decodes `values.size()` consecutive values of type `type` from `blocks` into `values`.
/// `values.size()` must be a multiple of the type's block size and `blocks.size()` exactly the
/// matching byte count; otherwise, or for a type that cannot be dequantized, throws `gift::error`.
inline void dequantize_row(ggml_type type, std::span<const std::byte> blocks, std::span<float> values) {
  const ggml_type_traits& traits = traits_of(type);
  detail::require(traits.dequantizable, "gift::io::dequantize_row: tensor type ", traits.name,
                        " is not supported (supported: F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q6_K); "
                        "convert the model with a supported quantization");
  detail::require(values.size() % traits.block_size == 0,
                        "gift::io::dequantize_row: ", values.size(), " values of type ", traits.name,
                        " are not a whole number of blocks of ", traits.block_size);
  const std::size_t n_blocks = values.size() / traits.block_size;
  detail::require(blocks.size() == n_blocks * traits.type_size,
                        "gift::io::dequantize_row: ", values.size(), " values of type ", traits.name,
                        " need ", n_blocks * traits.type_size, " bytes, but ", blocks.size(), " came");
  const std::byte* in = blocks.data();
  float* out = values.data();
  switch (type) {
    case ggml_type::f32:
      for (std::size_t i = 0; i < n_blocks; ++i) out[i] = detail::load_f32(in + 4 * i);
      break;
    case ggml_type::f16:
      for (std::size_t i = 0; i < n_blocks; ++i) out[i] = detail::load_half(in + 2 * i);
      break;
    case ggml_type::bf16:
      for (std::size_t i = 0; i < n_blocks; ++i) out[i] = bfloat16_to_float(detail::load_u16(in + 2 * i));
      break;
    case ggml_type::q4_0:
      for (std::size_t b = 0; b < n_blocks; ++b, in += 18, out += 32) {
        const float d = detail::load_half(in);
        for (std::size_t j = 0; j < 16; ++j) {
          const unsigned q = detail::byte_at(in + 2, j);
          out[j] = d * static_cast<float>(static_cast<int>(q & 0xFu) - 8);
          out[j + 16] = d * static_cast<float>(static_cast<int>(q >> 4) - 8);
        }
      }
      break;
    case ggml_type::q4_1:
      for (std::size_t b = 0; b < n_blocks; ++b, in += 20, out += 32) {
        const float d = detail::load_half(in);
        const float m = detail::load_half(in + 2);
        for (std::size_t j = 0; j < 16; ++j) {
          const unsigned q = detail::byte_at(in + 4, j);
          out[j] = d * static_cast<float>(q & 0xFu) + m;
          out[j + 16] = d * static_cast<float>(q >> 4) + m;
        }
      }
      break;
    case ggml_type::q8_0:
      for (std::size_t b = 0; b < n_blocks; ++b, in += 34, out += 32) {
        const float d = detail::load_half(in);
        for (std::size_t j = 0; j < 32; ++j) out[j] = d * static_cast<float>(detail::signed_byte_at(in + 2, j));
      }
      break;
    case ggml_type::q6_k:
      for (std::size_t b = 0; b < n_blocks; ++b, in += 210, out += 256) {
        const std::byte* low = in;          // ql[128]
        const std::byte* high = in + 128;   // qh[64]
        const std::byte* scales = in + 192; // scales[16]
        const float d = detail::load_half(in + 208);
        for (std::size_t half = 0; half < 2; ++half) {
          const std::byte* ql = low + 64 * half;
          const std::byte* qh = high + 32 * half;
          float* y = out + 128 * half;
          for (std::size_t l = 0; l < 32; ++l) {
            const unsigned h = detail::byte_at(qh, l);
            const unsigned a = detail::byte_at(ql, l);
            const unsigned c = detail::byte_at(ql, l + 32);
            const int q[4] = {static_cast<int>((a & 0xFu) | ((h & 3u) << 4)) - 32,
                              static_cast<int>((c & 0xFu) | (((h >> 2) & 3u) << 4)) - 32,
                              static_cast<int>((a >> 4) | (((h >> 4) & 3u) << 4)) - 32,
                              static_cast<int>((c >> 4) | (((h >> 6) & 3u) << 4)) - 32};
            for (std::size_t k = 0; k < 4; ++k) {
              // values 32k .. 32k+31 of this half use scales 8*half + 2k + l/16
              const int scale = detail::signed_byte_at(scales, 8 * half + 2 * k + l / 16);
              y[l + 32 * k] = (d * static_cast<float>(scale)) * static_cast<float>(q[k]);
            }
          }
        }
      }
      break;
    default:
      break;  // excluded by the `dequantizable` check above
  }
}

}  // namespace gift::io
