#pragma once
/// \file gift/backend/eigen/noise_rows.hpp
/// \brief The N(0, 1) variates of ranges of element indices on the CPU, generated in batches of
/// Philox blocks laid out so that the compiler vectorises them, on the widest instruction set
/// the CPU has (noise_lanes.hpp). The building block of every CPU noise path: part of a
/// weight's noise without materialising the rest.
///
/// The batch code performs exactly the operations of `gift::standard_normal4` (random.hpp) —
/// Philox4x32-10, then Box–Muller through gift's reproducible log and sincos — lane by lane, with
/// the data-dependent branches turned into selects. IEEE single operations (including division
/// and square root) round the same in SIMD registers as in scalar ones, and the host builds with
/// -ffp-contract=off, so the values are bit-identical to the scalar generator and to the GPU; a
/// test checks every path against it. Scalar generation costs ~20 ns a value; batched on AVX-512,
/// about 1.5 (`bench_model` reports both).

#include <gift/backend/eigen/noise_lanes.hpp>
#include <gift/detail/fp.hpp>
#include <gift/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

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

/// Philox blocks per batch: 64 blocks, 256 values. Eight independent groups of AVX-512 lanes
/// keep the multiply chains of the rounds overlapped; the arrays (4 KiB) stay in L1.
inline constexpr int noise_batch_blocks = 64;
/// The batch for a short remainder: 16 blocks, 64 values (two groups of AVX-512 lanes).
inline constexpr int noise_tail_batch_blocks = 16;

/// `standard_normal4(key, blocks[b], out + 4 * b)` for b in [0, Blocks), with the Philox rounds
/// and square roots of `Lanes`. The blocks need not be consecutive: a batch may gather short
/// stretches of several weight rows.
template <class Lanes, int Blocks>
GIFT_FORCE_INLINE void standard_normal_batch_body(const noise_key& key, const std::uint64_t* blocks, float* out) {
  // Box–Muller pair l takes words (0, 1) of block l, pair Blocks + l words (2, 3): words 0 and 2
  // are the radius bits, 1 and 3 the angle bits, so the pair arrays are the word arrays.
  constexpr int pairs = 2 * Blocks;
  std::uint32_t radius_bits[pairs], angle_bits[pairs];
  std::uint32_t* const c0 = radius_bits;
  std::uint32_t* const c2 = radius_bits + Blocks;
  std::uint32_t* const c1 = angle_bits;
  std::uint32_t* const c3 = angle_bits + Blocks;
  for (int l = 0; l < Blocks; ++l) {
    const std::uint64_t block = blocks[l];
    c0[l] = static_cast<std::uint32_t>(block);
    c1[l] = static_cast<std::uint32_t>(block >> 32);
    c2[l] = key.layer;
    c3[l] = key.step;
  }
  Lanes::template philox<Blocks>(c0, c1, c2, c3, static_cast<std::uint32_t>(key.seed),
                                 static_cast<std::uint32_t>(key.seed >> 32));
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
    // (bits · 2⁻²⁴) · 4 in one exact multiply: scaling by a power of two does not round.
    const float turns_times_4 = static_cast<float>(static_cast<std::int32_t>(angle_bits[p] >> 8)) * 2.384185791015625e-07f;
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
  Lanes::sqrt(radius_squared, radius, pairs);
  for (int l = 0; l < Blocks; ++l) {
    out[4 * l] = radius[l] * cosine_part[l];
    out[4 * l + 1] = radius[l] * sine_part[l];
    out[4 * l + 2] = radius[Blocks + l] * cosine_part[Blocks + l];
    out[4 * l + 3] = radius[Blocks + l] * sine_part[Blocks + l];
  }
}

// One batch on each path, out of line: each copy is compiled for its instruction set (the
// target attribute), and the loops of the body vectorise at that width.
/// \cond INTERNAL
#if GIFT_NOISE_X86
template <int Blocks>
[[gnu::noinline]] inline void standard_normal_batch_sse2(const noise_key& key, const std::uint64_t* blocks, float* out) {
  standard_normal_batch_body<noise_lanes<noise_simd::sse2>, Blocks>(key, blocks, out);
}
template <int Blocks>
__attribute__((target("avx2"), noinline)) inline void standard_normal_batch_avx2(const noise_key& key,
                                                                                const std::uint64_t* blocks, float* out) {
  standard_normal_batch_body<noise_lanes<noise_simd::avx2>, Blocks>(key, blocks, out);
}
template <int Blocks>
__attribute__((target("avx512f"), noinline)) inline void standard_normal_batch_avx512(const noise_key& key,
                                                                                    const std::uint64_t* blocks,
                                                                                    float* out) {
  standard_normal_batch_body<noise_lanes<noise_simd::avx512>, Blocks>(key, blocks, out);
}
#endif
template <int Blocks>
[[gnu::noinline]] inline void standard_normal_batch_portable(const noise_key& key, const std::uint64_t* blocks,
                                                             float* out) {
  standard_normal_batch_body<noise_lanes<noise_simd::portable>, Blocks>(key, blocks, out);
}
/// \endcond

/// One batch (the `Blocks` Philox blocks `blocks[0..Blocks)`, 4 · Blocks values) on path `simd`.
template <int Blocks>
inline void standard_normal_batch_on(noise_simd simd, const noise_key& key, const std::uint64_t* blocks, float* out) {
  switch (simd) {
#if GIFT_NOISE_X86
    case noise_simd::avx512: standard_normal_batch_avx512<Blocks>(key, blocks, out); return;
    case noise_simd::avx2: standard_normal_batch_avx2<Blocks>(key, blocks, out); return;
    case noise_simd::sse2: standard_normal_batch_sse2<Blocks>(key, blocks, out); return;
#endif
    default: standard_normal_batch_portable<Blocks>(key, blocks, out); return;
  }
}

/// Collects requests for stretches of noise (`standard_normal(key, first + t)` into `out[t]`)
/// and generates them in full batches of Philox blocks, whatever the stretches' lengths and
/// alignment: a stretch may start or end inside a block, and many short stretches (the rows of
/// a narrow column panel) share one batch. Values are written by the time `flush` returns (or
/// the gather is destroyed); a request's `out` must stay valid until then.
class standard_normal_gather {
public:
  /// Gathers noise of `key` on path `simd` (which must be available).
  standard_normal_gather(noise_simd simd, const noise_key& key) : simd_(simd), key_(key) {}
  standard_normal_gather(const standard_normal_gather&) = delete;
  standard_normal_gather& operator=(const standard_normal_gather&) = delete;
  ~standard_normal_gather() { flush(); }

  /// Requests `standard_normal(key, first + t)` into `out[t]` for `t` in `[0, count)`.
  void request(std::uint64_t first, std::uint64_t count, float* out) {
    const std::uint64_t end = first + count;
    // A leading partial block, whole blocks in runs, a trailing partial block.
    if (count > 0 && (first & 3u) != 0) {
      const std::uint64_t stop = std::min(end, (first | 3u) + 1);
      push(first >> 2, 1, out, static_cast<int>(first & 3u), static_cast<int>(stop - (first & ~std::uint64_t{3})));
      out += stop - first;
      first = stop;
    }
    while (end - first >= 4) {
      const std::uint64_t whole = std::min<std::uint64_t>((end - first) >> 2, noise_batch_blocks - blocks_);
      push(first >> 2, static_cast<int>(whole), out, 0, 4);
      out += 4 * whole;
      first += 4 * whole;
    }
    if (first < end) push(first >> 2, 1, out, 0, static_cast<int>(end - first));
  }

  /// Generates every pending request.
  void flush() {
    if (blocks_ == 0) return;
    // One run of a whole batch: generated in place.
    if (runs_ == 1 && blocks_ == noise_batch_blocks && run_[0].begin_lane == 0 && run_[0].end_lane == 4) {
      fill_counters(noise_batch_blocks);
      standard_normal_batch_on<noise_batch_blocks>(simd_, key_, counters_, run_[0].out);
    } else {
      // A short remainder goes through the small batch; unused lanes repeat the last block.
      const int capacity = blocks_ <= noise_tail_batch_blocks ? noise_tail_batch_blocks : noise_batch_blocks;
      fill_counters(capacity);
      float values[4 * noise_batch_blocks];
      if (capacity == noise_tail_batch_blocks)
        standard_normal_batch_on<noise_tail_batch_blocks>(simd_, key_, counters_, values);
      else
        standard_normal_batch_on<noise_batch_blocks>(simd_, key_, counters_, values);
      const float* from = values;
      for (int r = 0; r < runs_; ++r) {
        const run& p = run_[r];
        if (p.end_lane - p.begin_lane == 4)
          std::memcpy(p.out, from, static_cast<std::size_t>(4 * p.blocks) * sizeof(float));
        else
          std::copy(from + p.begin_lane, from + p.end_lane, p.out);
        from += 4 * p.blocks;
      }
    }
    runs_ = 0;
    blocks_ = 0;
  }

private:
  /// Consecutive blocks whose values go to consecutive places: whole blocks (lanes 0..4), or one
  /// partial block (lanes begin_lane..end_lane).
  struct run {
    std::uint64_t first_block;
    int blocks;
    float* out;  // where lane `begin_lane` of the first block goes
    int begin_lane, end_lane;
  };

  void push(std::uint64_t first_block, int blocks, float* out, int begin_lane, int end_lane) {
    run_[runs_++] = {first_block, blocks, out, begin_lane, end_lane};
    blocks_ += blocks;
    if (blocks_ == noise_batch_blocks) flush();
  }

  void fill_counters(int capacity) {
    int b = 0;
    for (int r = 0; r < runs_; ++r)
      for (int k = 0; k < run_[r].blocks; ++k) counters_[b++] = run_[r].first_block + static_cast<std::uint64_t>(k);
    for (; b < capacity; ++b) counters_[b] = counters_[blocks_ - 1];
  }

  noise_simd simd_;
  noise_key key_;
  run run_[noise_batch_blocks];
  std::uint64_t counters_[noise_batch_blocks];
  int runs_ = 0, blocks_ = 0;
};

/// Writes `standard_normal(key, first + t)` to `out[t]` for `t` in `[0, count)` on path `simd`
/// (which must be available).
inline void standard_normal_range_on(noise_simd simd, const noise_key& key, std::uint64_t first, std::uint64_t count,
                                     float* out) {
  standard_normal_gather gather(simd, key);
  gather.request(first, count, out);
}

/// `standard_normal_range_on` with the fastest path this CPU runs: what every CPU noise path uses.
inline void standard_normal_range(const noise_key& key, std::uint64_t first, std::uint64_t count, float* out) {
  standard_normal_range_on(fastest_noise_simd(), key, first, count, out);
}

}  // namespace gift::backend::detail
