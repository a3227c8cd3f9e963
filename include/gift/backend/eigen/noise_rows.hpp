#pragma once
/// \file gift/backend/eigen/noise_rows.hpp
/// \brief The N(0, 1) variates of a contiguous range of element indices on the CPU, generated in
/// batches of Philox blocks laid out so that the compiler vectorises them. The building block of
/// every CPU noise path: part of a weight's noise without materialising the rest.
///
/// The batch code performs exactly the operations of `gift::standard_normal4` (random.hpp) —
/// Philox4x32-10, then Box–Muller through gift's reproducible log and sincos — lane by lane, with
/// the data-dependent branches turned into selects. IEEE single operations (including division
/// and square root) round the same in SIMD registers as in scalar ones, and the host builds with
/// -ffp-contract=off, so the values are bit-identical to the scalar generator and to the GPU; a
/// test checks that. Scalar generation costs ~30 ns a value; batched, a few.

#include <gift/detail/fp.hpp>
#include <gift/random.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gift::backend::detail {

/// `condition ? a : b` for a 0/1 condition, by bit masks: no branch, so loops vectorise.
GIFT_FORCE_INLINE float select_float(std::uint32_t condition, float a, float b) {
  std::uint32_t a_bits, b_bits;
  std::memcpy(&a_bits, &a, sizeof a_bits);
  std::memcpy(&b_bits, &b, sizeof b_bits);
  const std::uint32_t mask = 0u - condition;
  const std::uint32_t bits = (a_bits & mask) | (b_bits & ~mask);
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}
/// `condition ? -x : x` for a 0/1 condition (a sign flip, exactly what negation does).
GIFT_FORCE_INLINE float negate_float(std::uint32_t condition, float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits ^= condition << 31;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

#if defined(__SSE2__)
/// Four 32 x 32 -> 64-bit products `multiplier * x`, split into high and low words.
GIFT_FORCE_INLINE void mulhilo4(__m128i multiplier, __m128i x, __m128i& hi, __m128i& lo) {
  const __m128i even = _mm_mul_epu32(x, multiplier);                      // lo0 hi0 lo2 hi2
  const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(x, 32), multiplier);   // lo1 hi1 lo3 hi3
  const __m128i low_pairs = _mm_unpacklo_epi32(even, odd);                // lo0 lo1 hi0 hi1
  const __m128i high_pairs = _mm_unpackhi_epi32(even, odd);               // lo2 lo3 hi2 hi3
  lo = _mm_unpacklo_epi64(low_pairs, high_pairs);
  hi = _mm_unpackhi_epi64(low_pairs, high_pairs);
}
#endif

/// Philox blocks per batch: 16 blocks, 64 values.
inline constexpr int noise_batch_blocks = 16;

/// `standard_normal4(key, first_block + b, out + 4 * b)` for b in [0, noise_batch_blocks).
inline void standard_normal_batch(const noise_key& key, std::uint64_t first_block, float* out) {
  constexpr int lanes = noise_batch_blocks;
  std::uint32_t c0[lanes], c1[lanes], c2[lanes], c3[lanes];
  for (int l = 0; l < lanes; ++l) {
    const std::uint64_t block = first_block + static_cast<std::uint64_t>(l);
    c0[l] = static_cast<std::uint32_t>(block);
    c1[l] = static_cast<std::uint32_t>(block >> 32);
    c2[l] = key.layer;
    c3[l] = key.step;
  }
  std::uint32_t k0 = static_cast<std::uint32_t>(key.seed), k1 = static_cast<std::uint32_t>(key.seed >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
#if defined(__SSE2__)
    // Four lanes at a time: SSE2 has a 32 x 32 -> 64-bit multiply on lanes 0 and 2 only
    // (pmuludq), so even and odd lanes are multiplied apart and the halves reassembled.
    const __m128i key0 = _mm_set1_epi32(static_cast<int>(k0)), key1 = _mm_set1_epi32(static_cast<int>(k1));
    const __m128i multiplier0 = _mm_set1_epi32(static_cast<int>(0xD2511F53u));
    const __m128i multiplier1 = _mm_set1_epi32(static_cast<int>(0xCD9E8D57u));
    for (int l = 0; l < lanes; l += 4) {
      const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c0 + l));
      const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c1 + l));
      const __m128i x2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c2 + l));
      const __m128i x3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c3 + l));
      __m128i hi0, lo0, hi1, lo1;
      mulhilo4(multiplier0, x0, hi0, lo0);
      mulhilo4(multiplier1, x2, hi1, lo1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c0 + l), _mm_xor_si128(_mm_xor_si128(hi1, x1), key0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c1 + l), lo1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c2 + l), _mm_xor_si128(_mm_xor_si128(hi0, x3), key1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c3 + l), lo0);
    }
#else
    for (int l = 0; l < lanes; ++l) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0[l];
      const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2[l];
      const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
      const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
      const std::uint32_t n0 = hi1 ^ c1[l] ^ k0, n2 = hi0 ^ c3[l] ^ k1;
      c0[l] = n0;
      c1[l] = lo1;
      c2[l] = n2;
      c3[l] = lo0;
    }
#endif
  }
  // Box–Muller pairs: pair 2l takes words (0, 1) of block l, pair 2l + 1 words (2, 3).
  constexpr int pairs = 2 * lanes;
  std::uint32_t radius_bits[pairs], angle_bits[pairs];
  for (int l = 0; l < lanes; ++l) {
    radius_bits[2 * l] = c0[l];
    angle_bits[2 * l] = c1[l];
    radius_bits[2 * l + 1] = c2[l];
    angle_bits[2 * l + 1] = c3[l];
  }
  float radius_squared[pairs], cosine_part[pairs], sine_part[pairs];
  for (int p = 0; p < pairs; ++p) {
    // reproducible_log(uniform_open_closed(radius_bits)), branch-free.
    const float u = static_cast<float>(static_cast<std::int32_t>((radius_bits[p] >> 8) + 1u)) * 5.9604644775390625e-08f;
    std::uint32_t bits;
    std::memcpy(&bits, &u, sizeof bits);
    const std::int32_t raw_exponent = static_cast<std::int32_t>((bits >> 23) & 0xffu) - 127;
    const std::uint32_t mantissa_bits = (bits & 0x007fffffu) | 0x3f800000u;
    float m;
    std::memcpy(&m, &mantissa_bits, sizeof m);
    const std::uint32_t above = m > 1.41421356f ? 1u : 0u;
    m = select_float(above, m * 0.5f, m);
    const std::int32_t exponent = raw_exponent + static_cast<std::int32_t>(above);
    const float s = (m - 1.0f) / (m + 1.0f);
    const float s2 = s * s;
    float poly = s2 * (1.0f / 9.0f) + 1.0f / 7.0f;
    poly = s2 * poly + 1.0f / 5.0f;
    poly = s2 * poly + 1.0f / 3.0f;
    poly = s2 * poly + 1.0f;
    const float log_m = (2.0f * s) * poly;
    const float e = static_cast<float>(exponent);
    const float log_u = (e * 0.693145751953125f + log_m) + e * 1.428606765330187e-06f;
    radius_squared[p] = -2.0f * log_u;
    // Angle: quadrant and position inside it, then reproducible_sincos_quarter.
    const float turns_times_4 =
        static_cast<float>(static_cast<std::int32_t>(angle_bits[p] >> 8)) * 5.9604644775390625e-08f * 4.0f;
    const std::int32_t quadrant = static_cast<std::int32_t>(turns_times_4);
    const float quarter = turns_times_4 - static_cast<float>(quadrant);
    const float a = (quarter - 0.5f) * 1.57079632679489662f;
    const float a2 = a * a;
    float sp = a2 * 2.755731922e-06f + -1.984126984e-04f;
    sp = a2 * sp + 8.333333333e-03f;
    sp = a2 * sp + -1.666666667e-01f;
    sp = a2 * sp + 1.0f;
    const float sin_a = a * sp;
    float cp = a2 * -2.755731922e-07f + 2.480158730e-05f;
    cp = a2 * cp + -1.388888889e-03f;
    cp = a2 * cp + 4.166666667e-02f;
    cp = a2 * cp + -0.5f;
    cp = a2 * cp + 1.0f;
    const float sine = (cp + sin_a) * 0.70710678118654752f;
    const float cosine = (cp - sin_a) * 0.70710678118654752f;
    // Whole quarter turns: swap for odd quadrants; negate cos in quadrants 1, 2 and sin in 2, 3.
    const std::uint32_t q = static_cast<std::uint32_t>(quadrant);
    const std::uint32_t swap = q & 1u;
    const std::uint32_t negate_cosine = (q ^ (q >> 1)) & 1u, negate_sine = (q >> 1) & 1u;
    cosine_part[p] = negate_float(negate_cosine, select_float(swap, sine, cosine));
    sine_part[p] = negate_float(negate_sine, select_float(swap, cosine, sine));
  }
  // Square roots apart: std::sqrt may set errno, a branch that would keep the loop above scalar.
  float radius[pairs];
#if defined(__SSE2__)
  for (int p = 0; p < pairs; p += 4) _mm_storeu_ps(radius + p, _mm_sqrt_ps(_mm_loadu_ps(radius_squared + p)));
#else
  for (int p = 0; p < pairs; ++p) radius[p] = std::sqrt(radius_squared[p]);
#endif
  for (int p = 0; p < pairs; ++p) {
    out[2 * p] = radius[p] * cosine_part[p];
    out[2 * p + 1] = radius[p] * sine_part[p];
  }
}

/// Writes `standard_normal(key, first + t)` to `out[t]` for `t` in `[0, count)`. Whole batches
/// of Philox blocks go through the vectorised path; the ends through `standard_normal4`.
inline void standard_normal_range(const noise_key& key, std::uint64_t first, std::uint64_t count, float* out) {
  if (count == 0) return;
  std::uint64_t index = first;
  const std::uint64_t end = first + count;
  float values[4];
  // Leading partial block.
  if ((index & 3u) != 0) {
    standard_normal4(key, index >> 2, values);
    for (; (index & 3u) != 0 && index < end; ++index) *out++ = values[index & 3u];
  }
  constexpr std::uint64_t batch_values = 4 * noise_batch_blocks;
  for (; index + batch_values <= end; index += batch_values) {
    standard_normal_batch(key, index >> 2, out);
    out += batch_values;
  }
  for (; index + 4 <= end; index += 4) {
    standard_normal4(key, index >> 2, out);
    out += 4;
  }
  // Trailing partial block (fewer than four values left).
  if (index < end) {
    standard_normal4(key, index >> 2, values);
    for (std::uint64_t lane = 0; index < end; ++index, ++lane) out[lane] = values[lane];
  }
}

}  // namespace gift::backend::detail
