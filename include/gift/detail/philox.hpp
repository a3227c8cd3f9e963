#pragma once
/// \file gift/detail/philox.hpp
/// \brief Philox4x32-10, the counter-based generator of Salmon et al. (SC'11, Random123).
///
/// Counter-based: the output is a pure function of (counter, key), so any element of a noise
/// matrix can be generated independently, on any backend, in any order, by any number of threads
/// and still come out the same.

#include <gift/config.hpp>

#include <cstdint>

namespace gift::detail {

/// Four 32-bit words: a Philox counter or output block.
struct philox4x32_block {
  std::uint32_t word[4];
};

/// The two 32-bit words of a Philox4x32 key.
struct philox4x32_key {
  std::uint32_t word[2];
};

GIFT_HOST_DEVICE GIFT_FORCE_INLINE void philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                                  std::uint32_t& lo) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b);
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}

/// Philox4x32 with `Rounds` rounds (10 is the standard, crush-resistant choice).
template <int Rounds = 10>
GIFT_HOST_DEVICE inline philox4x32_block philox4x32(philox4x32_block counter, philox4x32_key key) {
  constexpr std::uint32_t multiplier0 = 0xD2511F53u;
  constexpr std::uint32_t multiplier1 = 0xCD9E8D57u;
  constexpr std::uint32_t weyl0 = 0x9E3779B9u;  // golden ratio
  constexpr std::uint32_t weyl1 = 0xBB67AE85u;  // sqrt(3) - 1
  for (int round = 0; round < Rounds; ++round) {
    if (round > 0) {
      key.word[0] += weyl0;
      key.word[1] += weyl1;
    }
    std::uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(multiplier0, counter.word[0], hi0, lo0);
    philox_mulhilo(multiplier1, counter.word[2], hi1, lo1);
    counter = philox4x32_block{{hi1 ^ counter.word[1] ^ key.word[0], lo1, hi0 ^ counter.word[3] ^ key.word[1], lo0}};
  }
  return counter;
}

}  // namespace gift::detail
