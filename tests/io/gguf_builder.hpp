#pragma once
// Writes small GGUF files byte by byte for the tests and the fuzzer's seed corpus. Deliberately
// independent of the reader: it knows the format only from the specification.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <optional>
#include <vector>

namespace gift_test {

/// Little-endian byte sink with one method per GGUF primitive.
struct byte_writer {
  std::vector<std::byte> bytes;

  void u8(std::uint8_t v) { bytes.push_back(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) { for (int i = 0; i < 2; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i))); }
  void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i))); }
  void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i))); }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    for (char c : s) u8(static_cast<std::uint8_t>(c));
  }
  void raw(const std::vector<std::uint8_t>& data) { for (auto b : data) u8(b); }
  void pad_to(std::size_t alignment) { while (bytes.size() % alignment != 0) u8(0); }
  std::size_t size() const { return bytes.size(); }
};

// GGUF value type numbers (from the specification).
enum : std::uint32_t {
  t_u8 = 0, t_i8 = 1, t_u16 = 2, t_i16 = 3, t_u32 = 4, t_i32 = 5, t_f32 = 6, t_bool = 7,
  t_string = 8, t_array = 9, t_u64 = 10, t_i64 = 11, t_f64 = 12
};

/// One tensor for `build_gguf`: its GGML type number, shape (ne[0] first) and raw bytes.
struct tensor_spec {
  std::string name;
  std::uint32_t type;
  std::vector<std::uint64_t> shape;
  std::vector<std::uint8_t> data;
  std::optional<std::uint64_t> offset = {};  ///< data offset to declare (default: packed)
};

/// A complete file: header, the metadata produced by `write_metadata` (which must write exactly
/// `kv_count` entries), tensor infos with offsets packed at `alignment`, padding, data. The file
/// ends right after the last tensor's bytes, so any truncation cuts into data.
template <class WriteMetadata>
std::vector<std::byte> build_gguf(std::uint32_t version, std::uint64_t kv_count, WriteMetadata write_metadata,
                                  const std::vector<tensor_spec>& tensors, std::size_t alignment = 32) {
  byte_writer w;
  w.u8('G'); w.u8('G'); w.u8('U'); w.u8('F');
  w.u32(version);
  w.u64(tensors.size());
  w.u64(kv_count);
  write_metadata(w);
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    w.str(t.name);
    w.u32(static_cast<std::uint32_t>(t.shape.size()));
    for (auto d : t.shape) w.u64(d);
    w.u32(t.type);
    w.u64(t.offset.value_or(offset));
    offset += t.data.size();
    offset = (offset + alignment - 1) / alignment * alignment;
  }
  w.pad_to(alignment);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    w.raw(tensors[i].data);
    if (i + 1 < tensors.size()) w.pad_to(alignment);
  }
  return std::move(w.bytes);
}

/// A small valid v3 file with one entry of every scalar type, a string array, a nested array, and
/// two tensors (F32 and Q8_0): the base of the corruption tests and the fuzzer's seed corpus.
inline std::vector<std::byte> small_valid_gguf(std::uint32_t version = 3) {
  std::vector<std::uint8_t> f32_data;
  for (float v : {1.0f, -2.5f, 0.125f, 3.0f}) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) f32_data.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  }
  std::vector<std::uint8_t> q8_data = {0x00, 0x40};  // d = 2.0 as binary16
  for (int j = 0; j < 32; ++j) q8_data.push_back(static_cast<std::uint8_t>(j - 16));
  return build_gguf(
      version, 15,
      [](byte_writer& w) {
        w.str("general.architecture"); w.u32(t_string); w.str("llama");
        w.str("a.u8"); w.u32(t_u8); w.u8(250);
        w.str("a.i8"); w.u32(t_i8); w.u8(0x80);  // -128
        w.str("a.u16"); w.u32(t_u16); w.u16(65535);
        w.str("a.i16"); w.u32(t_i16); w.u16(0xFFFE);  // -2
        w.str("a.u32"); w.u32(t_u32); w.u32(4294967295u);
        w.str("a.i32"); w.u32(t_i32); w.u32(0x80000000u);  // INT32_MIN
        w.str("a.f32"); w.u32(t_f32); w.f32(1.5f);
        w.str("a.bool"); w.u32(t_bool); w.u8(1);
        w.str("a.u64"); w.u32(t_u64); w.u64(~0ull);
        w.str("a.i64"); w.u32(t_i64); w.u64(0x8000000000000000ull);  // INT64_MIN
        w.str("a.f64"); w.u32(t_f64); w.f64(-0.1);
        w.str("a.strings"); w.u32(t_array); w.u32(t_string); w.u64(3); w.str("x"); w.str(""); w.str("h\xc3\xa9");
        w.str("a.nested"); w.u32(t_array); w.u32(t_array); w.u64(2);
        w.u32(t_i16); w.u64(2); w.u16(7); w.u16(0xFFF9);  // {7, -7}
        w.u32(t_u8); w.u64(0);                              // {} of uint8
        w.str("a.empty"); w.u32(t_string); w.str("");
      },
      {{"vec", 0, {4}, f32_data}, {"mat", 8, {32, 1}, q8_data}});
}

}  // namespace gift_test
