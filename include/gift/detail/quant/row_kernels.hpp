#pragma once
/// \file gift/detail/quant/row_kernels.hpp
/// \brief The per-row arithmetic of gift's quantizers, shared by every backend.
///
/// Each backend runs these functions over rows (OpenMP on the CPU, a Thrust functor per row on
/// the Thrust systems), so all of them produce the same bits. The α search reads a row once per
/// candidate while the row sits in cache; memory sees one pass over W whatever the candidate
/// count. Errors accumulate in 16 float lanes (element j of a 256-element chunk goes to lane
/// j mod 16, so the compiler vectorises the loop), lanes fold pairwise, chunk sums add in double
/// in order: a fixed order, hence reproducible, and accurate to about 1e-6 relative.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/norm.hpp>
#include <gift/detail/quant/levels.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace gift::detail {

inline constexpr std::size_t error_lanes = 16;
inline constexpr std::size_t error_chunk = 256;

/// Bit casts the vectoriser can see through (memcpy-based casts stop GCC's if-conversion).
GIFT_HOST_DEVICE GIFT_FORCE_INLINE std::uint32_t lane_float_bits(float x) {
#if GIFT_DEVICE_PASS
  return __float_as_uint(x);
#else
  return __builtin_bit_cast(std::uint32_t, x);
#endif
}
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float lane_bits_float(std::uint32_t u) {
#if GIFT_DEVICE_PASS
  return __uint_as_float(u);
#else
  return __builtin_bit_cast(float, u);
#endif
}

/// `|u|^p` for an error `u` measured in steps Δ, as `2^(p · log2|u|)` from plain single-rounded
/// integer and float arithmetic: vectorisable (libm's `pow` is not; GCC also gives up on loops
/// with several float selects, hence the integer clamps), the same bits on every backend,
/// relative error about 2e-6. |u| is clamped to [2^-31, 2^30] first: below, the power is
/// negligible beside any real error (a zero error counts as 2^(-31p)); above, no error in steps
/// can reach. With p ≤ 4 the exponent stays in float's normal range.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float power_abs(float u, float p) {
  constexpr std::int32_t low = 0x30000000;   // 2^-31
  constexpr std::int32_t high = 0x4e800000;  // 2^30
  std::int32_t bits = static_cast<std::int32_t>(lane_float_bits(u) & 0x7fffffffu);
  std::int32_t d = bits - low;
  bits -= d & (d >> 31);  // max(bits, low)
  d = bits - high;
  bits -= d & ~(d >> 31);  // min(bits, high)
  // log2|u| = e + log2 m with m in [sqrt(1/2), sqrt(2)): `up` is 1 when the mantissa is ≥ √2.
  const std::int32_t mantissa = bits & 0x007fffff;
  const std::int32_t up = (mantissa + (0x00800000 - 0x003504f3)) >> 23;
  const float m = lane_bits_float(static_cast<std::uint32_t>(mantissa | ((127 - up) << 23)));
  const float e = static_cast<float>((bits >> 23) - 127 + up);
  const float log2_m = fmul(log_of_reduced_mantissa(m), 1.44269504088896341f);
  const float y = fmul(p, fadd(e, log2_m));
  // 2^y = 2^i · 2^f, i = round(y), f in [−0.5, 0.5]: 2^f = e^(f ln 2) by its Taylor series.
  const float i = fsub(fadd(y, 12582912.0f), 12582912.0f);
  const float t = fmul(fsub(y, i), 0.693147180559945309f);
  float q = fadd(fmul(t, 1.0f / 5040.0f), 1.0f / 720.0f);
  q = fadd(fmul(t, q), 1.0f / 120.0f);
  q = fadd(fmul(t, q), 1.0f / 24.0f);
  q = fadd(fmul(t, q), 1.0f / 6.0f);
  q = fadd(fmul(t, q), 0.5f);
  q = fadd(fmul(t, q), 1.0f);
  q = fadd(fmul(t, q), 1.0f);
  return fmul(q, lane_bits_float(static_cast<std::uint32_t>(static_cast<std::int32_t>(i) + 127) << 23));
}

/// The error term: `e²` on the fast path, else `|e/Δ|^p` (the caller multiplies the sum by Δ^p).
template <bool Squared>
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float error_power(float e, float inverse, float exponent) {
  if constexpr (Squared) {
    (void)exponent;
    (void)inverse;
    return fmul(e, e);
  } else {
    return power_abs(fmul(e, inverse), exponent);
  }
}

/// \cond INTERNAL
#if GIFT_DEVICE_PASS || defined(_MSC_VER)
#define GIFT_LANE_LOOP_NOINLINE
#else
#define GIFT_LANE_LOOP_NOINLINE __attribute__((noinline))
#endif
/// \endcond

/// Adds the errors of `blocks` runs of 16 weights into the 16 lanes (lane l takes element l of
/// every run).
template <bool Squared, bool Masked>
GIFT_HOST_DEVICE GIFT_FORCE_INLINE void error_lanes_body(float* __restrict lane, const float* __restrict w,
                                                         const float* __restrict keep, std::size_t blocks, float delta,
                                                         float inverse, float qmin, float qmax, float exponent) {
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t l = 0; l < error_lanes; ++l) {
      float v = error_power<Squared>(symmetric_error(w[b * error_lanes + l], delta, inverse, qmin, qmax), inverse, exponent);
      if constexpr (Masked) v = fmul(v, keep[b * error_lanes + l]);
      lane[l] = fadd(lane[l], v);
    }
  }
}

// On x86 hosts built for the baseline ISA, an AVX2 copy of the lane loop is chosen at run time.
// Every lane still performs the same single-rounded operations, so both copies give the same
// bits (no FMA: gift builds with -ffp-contract=off and the clone does not enable FMA).
/// \cond INTERNAL
#if !GIFT_CUDA_COMPILER && defined(__GNUC__) && defined(__x86_64__) && !defined(__AVX2__)
#define GIFT_AVX2_CLONE 1
inline bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
template <bool Squared, bool Masked>
__attribute__((target("avx2"), noinline)) void error_lanes_avx2(float* __restrict lane, const float* __restrict w,
                                                                const float* __restrict keep, std::size_t blocks,
                                                                float delta, float inverse, float qmin, float qmax,
                                                                float exponent) {
  error_lanes_body<Squared, Masked>(lane, w, keep, blocks, delta, inverse, qmin, qmax, exponent);
}
#else
#define GIFT_AVX2_CLONE 0
#endif
/// \endcond

/// The lane loop, out of line: GCC vectorises it only when it is not inlined into the chunk
/// loop (it would split the lane array into scalars); one call per 256 elements costs nothing.
template <bool Squared, bool Masked>
GIFT_HOST_DEVICE GIFT_LANE_LOOP_NOINLINE void add_error_lanes(float* __restrict lane, const float* __restrict w,
                                                              const float* __restrict keep, std::size_t blocks,
                                                              float delta, float inverse, float qmin, float qmax,
                                                              float exponent) {
#if GIFT_AVX2_CLONE
  if (cpu_has_avx2()) {
    error_lanes_avx2<Squared, Masked>(lane, w, keep, blocks, delta, inverse, qmin, qmax, exponent);
    return;
  }
#endif
  error_lanes_body<Squared, Masked>(lane, w, keep, blocks, delta, inverse, qmin, qmax, exponent);
}

/// `Σ_j keep_j · |w_j − Q(w_j)|^p` over `n` weights for one scale (`keep` may be null: all
/// kept). Salient weights have keep 0 and add exactly 0 (their error is finite).
template <bool Squared, bool Masked>
GIFT_HOST_DEVICE inline double segment_error(const float* w, const float* keep, std::size_t n, float delta, float inverse,
                                            float qmin, float qmax, float exponent) {
  double total = 0.0;
  for (std::size_t start = 0; start < n; start += error_chunk) {
    const std::size_t stop = start + error_chunk < n ? start + error_chunk : n;
    float lane[error_lanes] = {};
    const std::size_t full = (stop - start) / error_lanes;
    add_error_lanes<Squared, Masked>(lane, w + start, Masked ? keep + start : nullptr, full, delta, inverse, qmin, qmax,
                                     exponent);
    for (std::size_t j = start + full * error_lanes, l = 0; j < stop; ++j, ++l) {
      float v = error_power<Squared>(symmetric_error(w[j], delta, inverse, qmin, qmax), inverse, exponent);
      if constexpr (Masked) v = fmul(v, keep[j]);
      lane[l] = fadd(lane[l], v);
    }
    for (std::size_t width = error_lanes / 2; width > 0; width /= 2)
      for (std::size_t l = 0; l < width; ++l) lane[l] = fadd(lane[l], lane[l + width]);
    total = dadd(total, static_cast<double>(lane[0]));
  }
  if constexpr (!Squared) total = total * std::pow(static_cast<double>(delta), static_cast<double>(exponent));
  return total;
}

/// The outcome of a scale search on one row or group.
struct segment_scale {
  float alpha;    ///< chosen clipping value (0 when nothing was measurable)
  float delta;    ///< step Δ = α / qmax (degenerate_scale when α is 0)
  float max_all;  ///< max|w| over all weights, NaN-propagating: non-finite flags bad input
};

/// Largest |w| over all weights and over the kept ones; `max_all` is NaN when any weight is NaN
/// or ±Inf. Written as 16 independent lanes of branch-free maxima so that it vectorises.
GIFT_HOST_DEVICE inline void segment_max_abs(const float* w, const float* keep, std::size_t n, float& max_all,
                                             float& max_kept) {
  float all[error_lanes] = {}, kept[error_lanes] = {}, poison[error_lanes] = {};
  std::size_t j = 0;
  for (; j + error_lanes <= n; j += error_lanes) {
    for (std::size_t l = 0; l < error_lanes; ++l) {
      const float a = lane_bits_float(lane_float_bits(w[j + l]) & 0x7fffffffu);
      all[l] = a > all[l] ? a : all[l];
      poison[l] = fadd(poison[l], fmul(w[j + l], 0.0f));  // NaN iff some weight is NaN or ±Inf
      const float k = keep == nullptr ? a : fmul(a, keep[j + l]);
      kept[l] = k > kept[l] ? k : kept[l];
    }
  }
  for (std::size_t l = 0; j < n; ++j, ++l) {
    const float a = lane_bits_float(lane_float_bits(w[j]) & 0x7fffffffu);
    all[l] = a > all[l] ? a : all[l];
    poison[l] = fadd(poison[l], fmul(w[j], 0.0f));
    const float k = keep == nullptr ? a : fmul(a, keep[j]);
    kept[l] = k > kept[l] ? k : kept[l];
  }
  float top = 0.0f, top_kept = 0.0f, bad = 0.0f;
  for (std::size_t l = 0; l < error_lanes; ++l) {
    top = all[l] > top ? all[l] : top;
    top_kept = kept[l] > top_kept ? kept[l] : top_kept;
    bad = fadd(bad, poison[l]);
  }
  max_all = fadd(top, bad);  // NaN when any weight was not finite
  max_kept = top_kept;
}

template <bool Squared, bool Masked>
GIFT_HOST_DEVICE inline segment_scale search_segment(const float* w, const float* keep, std::size_t n, float max_kept,
                                                     float max_all, const float* ratios, std::size_t count, float qmin,
                                                     float qmax, float exponent) {
  segment_scale best{0.0f, degenerate_scale, max_all};
  if (!(max_kept > 0.0f) || max_all != max_all || max_all - max_all != 0.0f) return best;
  double best_error = HUGE_VAL;
  for (std::size_t c = 0; c < count; ++c) {
    const float alpha = fmul(ratios[c], max_kept);
    const float delta = fdiv(alpha, qmax);
    if (!(delta >= degenerate_scale)) continue;  // subnormal steps would overflow 1/Δ
    if (count == 1) return segment_scale{alpha, delta, max_all};
    const double error = segment_error<Squared, Masked>(w, keep, n, delta, fdiv(1.0f, delta), qmin, qmax, exponent);
    if (error < best_error) {  // strict: ties keep the earlier candidate
      best_error = error;
      best = segment_scale{alpha, delta, max_all};
    }
  }
  return best;
}

/// α search on `n` weights (`keep` may be null): the candidate `ratio · max|w_kept|` with the
/// least kept error. A segment whose kept weights are all zero gets α = 0, Δ = degenerate_scale.
GIFT_HOST_DEVICE inline segment_scale search_segment_scale(const float* w, const float* keep, std::size_t n,
                                                           const float* ratios, std::size_t count, int bits,
                                                           float exponent) {
  float max_all, max_kept;
  segment_max_abs(w, keep, n, max_all, max_kept);
  const float qmin = static_cast<float>(symmetric_qmin(bits)), qmax = static_cast<float>(symmetric_qmax(bits));
  const bool squared = exponent == 2.0f;
  if (keep == nullptr) {
    return squared ? search_segment<true, false>(w, keep, n, max_kept, max_all, ratios, count, qmin, qmax, exponent)
                   : search_segment<false, false>(w, keep, n, max_kept, max_all, ratios, count, qmin, qmax, exponent);
  }
  return squared ? search_segment<true, true>(w, keep, n, max_kept, max_all, ratios, count, qmin, qmax, exponent)
                 : search_segment<false, true>(w, keep, n, max_kept, max_all, ratios, count, qmin, qmax, exponent);
}

/// Number of groups of `group` columns in `cols` (group 0 means one group: the whole row).
GIFT_HOST_DEVICE constexpr std::size_t group_count(std::size_t cols, std::size_t group) {
  return group == 0 ? 1 : (cols + group - 1) / group;
}

/// Runs the α search on every group of one row; writes α, Δ and max|w| per group.
GIFT_HOST_DEVICE inline void search_row_scales(const float* row, const float* keep, std::size_t cols, std::size_t group,
                                               const float* ratios, std::size_t count, int bits, float exponent,
                                               float* alpha_out, float* delta_out, float* max_out) {
  const std::size_t width = group == 0 ? cols : group;
  const std::size_t groups = group_count(cols, group);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t first = g * width;
    const std::size_t n = first + width < cols ? width : cols - first;
    const segment_scale s =
        search_segment_scale(row + first, keep == nullptr ? nullptr : keep + first, n, ratios, count, bits, exponent);
    alpha_out[g] = s.alpha;
    delta_out[g] = s.delta;
    max_out[g] = s.max_all;
  }
}

/// Symmetric codes (and optionally dequantized values) of one row with per-group steps Δ.
GIFT_HOST_DEVICE inline void quantize_row_symmetric(const float* row, std::size_t cols, std::size_t group,
                                                    const float* deltas, int bits, std::int8_t* codes,
                                                    float* dequantized) {
  const float qmin = static_cast<float>(symmetric_qmin(bits)), qmax = static_cast<float>(symmetric_qmax(bits));
  const std::size_t width = group == 0 ? cols : group;
  for (std::size_t first = 0, g = 0; first < cols; first += width, ++g) {
    const float delta = deltas[g], inverse = fdiv(1.0f, delta);
    const std::size_t stop = first + width < cols ? first + width : cols;
    for (std::size_t j = first; j < stop; ++j) {
      const float q = round_clamped(fmul(row[j], inverse), qmin, qmax);
      codes[j] = code_of<std::int8_t>(q);
      if (dequantized != nullptr) dequantized[j] = fmul(q, delta);
    }
  }
}

/// Asymmetric (min/max) parameters of every group of one row: the range [min(0, w_min),
/// max(0, w_max)] over kept weights (zero is always representable), scale = range / (2^b − 1),
/// zero point = round(−min / scale). `max_out` gets max|w| over all weights (NaN-propagating).
GIFT_HOST_DEVICE inline void asymmetric_row_params(const float* row, const float* keep, std::size_t cols,
                                                   std::size_t group, int bits, float* scale_out, float* zero_out,
                                                   float* max_out) {
  const float qmax = static_cast<float>(asymmetric_qmax(bits));
  const std::size_t width = group == 0 ? cols : group;
  for (std::size_t first = 0, g = 0; first < cols; first += width, ++g) {
    const std::size_t stop = first + width < cols ? first + width : cols;
    float low = 0.0f, high = 0.0f, all = 0.0f;
    for (std::size_t j = first; j < stop; ++j) {
      const float w = row[j], a = w < 0 ? -w : w;
      all = (a != a || all < a) ? a : all;
      if (keep != nullptr && keep[j] == 0.0f) continue;
      low = w < low ? w : low;
      high = w > high ? w : high;
    }
    float scale = fdiv(fsub(high, low), qmax);
    if (!(scale >= degenerate_scale)) scale = degenerate_scale;
    scale_out[g] = scale;
    zero_out[g] = round_clamped(fdiv(-low, scale), 0.0f, qmax);
    max_out[g] = all;
  }
}

/// Asymmetric codes `clamp(round(w/s) + z, 0, 2^b − 1)` of one row (and optionally `(q − z)·s`).
GIFT_HOST_DEVICE inline void quantize_row_asymmetric(const float* row, std::size_t cols, std::size_t group,
                                                     const float* scales, const float* zeros, int bits,
                                                     std::uint8_t* codes, float* dequantized) {
  const float qmax = static_cast<float>(asymmetric_qmax(bits));
  const std::size_t width = group == 0 ? cols : group;
  for (std::size_t first = 0, g = 0; first < cols; first += width, ++g) {
    const float scale = scales[g], zero = zeros[g], inverse = fdiv(1.0f, scale);
    const std::size_t stop = first + width < cols ? first + width : cols;
    for (std::size_t j = first; j < stop; ++j) {
      // round(t) + z clamped to [0, qmax] equals round(t clamped to [−z, qmax − z]) + z, exactly.
      const float r = round_clamped(fmul(row[j], inverse), -zero, fsub(qmax, zero));
      codes[j] = code_of<std::uint8_t>(fadd(r, zero));
      if (dequantized != nullptr) dequantized[j] = fmul(r, scale);
    }
  }
}

}  // namespace gift::detail
