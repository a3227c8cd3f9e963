#pragma once
/// \file gift/backend/eigen/noise_lanes.hpp
/// \brief The instruction sets the CPU noise generator runs on, and what each supplies: the
/// Philox rounds on a batch of counters and the square roots of Box–Muller. Which one runs is
/// asked of the CPU once (`fastest_noise_simd`), so one binary built for the x86-64 baseline
/// uses AVX-512 or AVX2 where the CPU has them; every path gives the same bits.

#include <gift/config.hpp>

#include <cmath>
#include <cstdint>
#if !GIFT_CUDA_COMPILER && defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gift::backend::detail {

/// The instruction sets the CPU generator has a path for, narrowest first. Every path performs
/// the same single-rounded operations lane by lane, so all give the same bits; they differ in
/// how many lanes one instruction covers.
enum class noise_simd { portable, sse2, avx2, avx512 };

/// The lane operations a path supplies: the ten Philox rounds on a batch's counters
/// held as four word arrays (each group of lanes kept in registers through all rounds), and
/// `sqrt` over the Box–Muller radii. The rest of the batch is plain loops that the compiler
/// vectorises at the width of the function they are inlined into. The x86 paths are ordinary
/// (not forced) inline functions with a target attribute: GCC refuses to force a target-specific
/// function into the generic batch body, but inlines it once the body sits in a clone of the
/// same target.
template <noise_simd Simd>
struct noise_lanes;

/// Key words of Philox round `round` (the Weyl sequence added before every round but the first).
GIFT_FORCE_INLINE std::uint32_t philox_round_key(std::uint32_t word, std::uint32_t weyl, int round) {
  return word + static_cast<std::uint32_t>(round) * weyl;
}

/// Scalar words; what the batch falls back to off x86.
template <>
struct noise_lanes<noise_simd::portable> {
  template <int Blocks>
  GIFT_FORCE_INLINE static void philox(std::uint32_t* c0, std::uint32_t* c1, std::uint32_t* c2, std::uint32_t* c3,
                                       std::uint32_t k0, std::uint32_t k1) {
    for (int l = 0; l < Blocks; ++l) {
      std::uint32_t x0 = c0[l], x1 = c1[l], x2 = c2[l], x3 = c3[l];
      for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * x0;
        const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * x2;
        x0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ philox_round_key(k0, 0x9E3779B9u, round);
        x2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ philox_round_key(k1, 0xBB67AE85u, round);
        x1 = static_cast<std::uint32_t>(p1);
        x3 = static_cast<std::uint32_t>(p0);
      }
      c0[l] = x0;
      c1[l] = x1;
      c2[l] = x2;
      c3[l] = x3;
    }
  }
  GIFT_FORCE_INLINE static void sqrt(const float* x, float* root, int n) {
    for (int p = 0; p < n; ++p) root[p] = std::sqrt(x[p]);
  }
};

/// \cond INTERNAL
#if !GIFT_CUDA_COMPILER && defined(__GNUC__) && defined(__x86_64__)
#define GIFT_NOISE_X86 1
// Ten Philox rounds with each 32-bit word widened to a 64-bit lane: x86 multiplies 32 x 32 -> 64
// bits in the low half of every 64-bit lane (pmuludq), so the product's high word is one shift
// away and its low word is the lane itself. The upper halves of the lanes carry garbage that no
// later step reads (pmuludq ignores them; the final narrowing drops them). Independent groups of
// lanes follow each other in the loop, so the out-of-order core overlaps their multiply chains.
#define GIFT_DETAIL_PHILOX_WIDE(V, LOAD_WIDEN, STORE_NARROW, SET1, MUL_EVEN, SRLI64, XOR3, STEP)                 \
  const V multiplier0 = SET1(0xD2511F53ll), multiplier1 = SET1(0xCD9E8D57ll);                                     \
  V key0[10], key1[10];                                                                                           \
  for (int round = 0; round < 10; ++round) {                                                                      \
    key0[round] = SET1(static_cast<long long>(philox_round_key(k0, 0x9E3779B9u, round)));                         \
    key1[round] = SET1(static_cast<long long>(philox_round_key(k1, 0xBB67AE85u, round)));                         \
  }                                                                                                               \
  for (int l = 0; l < Blocks; l += STEP) {                                                                        \
    V x0 = LOAD_WIDEN(c0 + l), x1 = LOAD_WIDEN(c1 + l), x2 = LOAD_WIDEN(c2 + l), x3 = LOAD_WIDEN(c3 + l);         \
    for (int round = 0; round < 10; ++round) {                                                                    \
      const V p0 = MUL_EVEN(x0, multiplier0), p1 = MUL_EVEN(x2, multiplier1);                                     \
      x0 = XOR3(SRLI64(p1, 32), x1, key0[round]);                                                                 \
      x2 = XOR3(SRLI64(p0, 32), x3, key1[round]);                                                                 \
      x1 = p1;                                                                                                    \
      x3 = p0;                                                                                                    \
    }                                                                                                             \
    STORE_NARROW(c0 + l, x0);                                                                                     \
    STORE_NARROW(c1 + l, x1);                                                                                     \
    STORE_NARROW(c2 + l, x2);                                                                                     \
    STORE_NARROW(c3 + l, x3);                                                                                     \
  }

// SSE2: two words per register.
#define GIFT_DETAIL_WIDEN128(p) _mm_unpacklo_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), _mm_setzero_si128())
#define GIFT_DETAIL_NARROW128(p, v) _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_shuffle_epi32(v, 0x08))
#define GIFT_DETAIL_XOR3_128(a, b, c) _mm_xor_si128(_mm_xor_si128(a, b), c)

/// SSE2, which every x86-64 CPU has.
template <>
struct noise_lanes<noise_simd::sse2> {
  template <int Blocks>
  static inline void philox(std::uint32_t* c0, std::uint32_t* c1, std::uint32_t* c2, std::uint32_t* c3,
                            std::uint32_t k0, std::uint32_t k1) {
    GIFT_DETAIL_PHILOX_WIDE(__m128i, GIFT_DETAIL_WIDEN128, GIFT_DETAIL_NARROW128, _mm_set1_epi64x, _mm_mul_epu32,
                            _mm_srli_epi64, GIFT_DETAIL_XOR3_128, 2)
  }
  static inline void sqrt(const float* x, float* root, int n) {
    for (int p = 0; p < n; p += 4) _mm_storeu_ps(root + p, _mm_sqrt_ps(_mm_loadu_ps(x + p)));
  }
};

// AVX2: four words per register; narrowing gathers the even 32-bit lanes into the low half.
#define GIFT_DETAIL_WIDEN256(p) _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))
#define GIFT_DETAIL_NARROW256(p, v)                                                                       \
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),                                                         \
                   _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6))))
#define GIFT_DETAIL_XOR3_256(a, b, c) _mm256_xor_si256(_mm256_xor_si256(a, b), c)

/// AVX2.
template <>
struct noise_lanes<noise_simd::avx2> {
  template <int Blocks>
  __attribute__((target("avx2"))) static inline void philox(std::uint32_t* c0, std::uint32_t* c1, std::uint32_t* c2,
                                                            std::uint32_t* c3, std::uint32_t k0, std::uint32_t k1) {
    GIFT_DETAIL_PHILOX_WIDE(__m256i, GIFT_DETAIL_WIDEN256, GIFT_DETAIL_NARROW256, _mm256_set1_epi64x,
                            _mm256_mul_epu32, _mm256_srli_epi64, GIFT_DETAIL_XOR3_256, 4)
  }
  __attribute__((target("avx2"))) static inline void sqrt(const float* x, float* root, int n) {
    for (int p = 0; p < n; p += 8) _mm256_storeu_ps(root + p, _mm256_sqrt_ps(_mm256_loadu_ps(x + p)));
  }
};

// AVX-512F: eight words per register, three-way XOR in one ternary-logic instruction (0x96).
// The zero-masked forms of the multiply, shift and square root: the plain ones start from
// _mm512_undefined_*, which GCC 12 reports as uninitialised once inlined (GCC bug 105593).
#define GIFT_DETAIL_WIDEN512(p) _mm512_maskz_cvtepu32_epi64(0xFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))
#define GIFT_DETAIL_NARROW512(p, v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_maskz_cvtepi64_epi32(0xFF, v))
#define GIFT_DETAIL_MUL_EVEN512(a, b) _mm512_maskz_mul_epu32(0xFF, a, b)
#define GIFT_DETAIL_SRLI512(a, n) _mm512_maskz_srli_epi64(0xFF, a, n)
#define GIFT_DETAIL_XOR3_512(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0x96)

/// AVX-512F.
template <>
struct noise_lanes<noise_simd::avx512> {
  template <int Blocks>
  __attribute__((target("avx512f"))) static inline void philox(std::uint32_t* c0, std::uint32_t* c1,
                                                               std::uint32_t* c2, std::uint32_t* c3, std::uint32_t k0,
                                                               std::uint32_t k1) {
    GIFT_DETAIL_PHILOX_WIDE(__m512i, GIFT_DETAIL_WIDEN512, GIFT_DETAIL_NARROW512, _mm512_set1_epi64,
                            GIFT_DETAIL_MUL_EVEN512, GIFT_DETAIL_SRLI512, GIFT_DETAIL_XOR3_512, 8)
  }
  __attribute__((target("avx512f"))) static inline void sqrt(const float* x, float* root, int n) {
    for (int p = 0; p < n; p += 16) _mm512_storeu_ps(root + p, _mm512_maskz_sqrt_ps(0xFFFF, _mm512_loadu_ps(x + p)));
  }
};
#undef GIFT_DETAIL_PHILOX_WIDE
#undef GIFT_DETAIL_WIDEN128
#undef GIFT_DETAIL_NARROW128
#undef GIFT_DETAIL_XOR3_128
#undef GIFT_DETAIL_WIDEN256
#undef GIFT_DETAIL_NARROW256
#undef GIFT_DETAIL_XOR3_256
#undef GIFT_DETAIL_WIDEN512
#undef GIFT_DETAIL_NARROW512
#undef GIFT_DETAIL_MUL_EVEN512
#undef GIFT_DETAIL_SRLI512
#undef GIFT_DETAIL_XOR3_512
#else
#define GIFT_NOISE_X86 0
#endif
/// \endcond

/// The path this build uses without asking the CPU: the widest the compiler was told it may use.
inline constexpr noise_simd compiled_noise_simd =
#if defined(__AVX512F__) && GIFT_NOISE_X86
    noise_simd::avx512;
#elif defined(__AVX2__) && GIFT_NOISE_X86
    noise_simd::avx2;
#elif GIFT_NOISE_X86
    noise_simd::sse2;
#else
    noise_simd::portable;
#endif

/// Whether this CPU can run `simd` (paths above the compiled one are asked of the CPU once).
inline bool noise_simd_available(noise_simd simd) {
  if (simd <= compiled_noise_simd) return true;
#if GIFT_NOISE_X86
  static const bool avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") != 0);
  static const bool avx512 = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f") != 0);
  return simd == noise_simd::avx2 ? avx2 : avx512;
#else
  return false;
#endif
}

/// The widest path this CPU runs: what `standard_normal_range` uses.
inline noise_simd fastest_noise_simd() {
  static const noise_simd fastest = noise_simd_available(noise_simd::avx512) ? noise_simd::avx512
                                    : noise_simd_available(noise_simd::avx2) ? noise_simd::avx2
                                                                              : compiled_noise_simd;
  return fastest;
}

}  // namespace gift::backend::detail
