#pragma once
/// \file gift/distributed/agreement.hpp
/// \brief `gift::distributed::require_agreement`: every rank checks, before any work, that all
/// ranks hold the same model, data and settings (by 64-bit fingerprints), and all stop with the
/// same clear error when one differs.
///
/// A data-parallel run whose ranks loaded different weights, or were started with a different
/// learning rate, would not fail: it would silently average gradients of different models. The
/// check costs one all-gather of a few numbers.

#include <gift/distributed/communicator.hpp>
#include <gift/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace gift::distributed {

/// A 64-bit fingerprint of bytes (FNV-1a over 8-byte words, then the tail bytes). It tells a rank
/// that holds other bytes from one that holds the same; it is not a cryptographic hash.
class fingerprint_hasher {
public:
  /// Adds raw bytes.
  fingerprint_hasher& add(std::span<const std::byte> bytes) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, bytes.data() + i, 8);
      mix(word);
    }
    for (; i < bytes.size(); ++i) mix(static_cast<std::uint64_t>(bytes[i]));
    mix(bytes.size());  // "ab" + "c" differs from "a" + "bc"
    return *this;
  }
  /// Adds the bytes of `values`.
  template <transferable T>
  fingerprint_hasher& add_values(std::span<const T> values) noexcept {
    return add(std::as_bytes(values));
  }
  /// Adds a string.
  fingerprint_hasher& add(std::string_view text) noexcept {
    return add(std::as_bytes(std::span<const char>(text.data(), text.size())));
  }
  /// The fingerprint so far.
  [[nodiscard]] std::uint64_t value() const noexcept { return state_; }

private:
  void mix(std::uint64_t word) noexcept {
    state_ ^= word;
    state_ *= 0x100000001b3ull;
    state_ ^= state_ >> 29;
  }
  std::uint64_t state_ = 0xcbf29ce484222325ull;
};

/// One thing every rank must hold identically: a name for the message and its fingerprint.
struct fingerprint {
  std::string what;        ///< e.g. "the model weights", "the options"
  std::uint64_t value = 0; ///< its fingerprint on this rank
};

/// Thrown on every rank at once when the ranks disagree: no rank is left waiting, so a program
/// may end normally (print on one rank, exit with an error) instead of aborting the run.
class disagreement : public error {
public:
  using error::error;
};

/// Compares `items` (same names, same order on every rank) across all ranks.
/// \throws disagreement on every rank, naming the first item that differs, the ranks and their
/// fingerprints, when any rank's fingerprint (or number of items) differs from rank 0's.
inline void require_agreement(communicator& comm, std::span<const fingerprint> items, std::string_view where) {
  const std::uint64_t count = items.size();
  const std::vector<std::uint64_t> counts = all_gather_values(comm, std::span<const std::uint64_t>(&count, 1));
  for (std::size_t r = 1; r < counts.size(); ++r)
    if (counts[r] != counts[0])
      throw disagreement(gift::detail::concat(where, ": rank ", r, " checks ", counts[r], " items but rank 0 checks ",
                                              counts[0], "; every rank must run the same gift version and command"));
  std::vector<std::uint64_t> mine(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) mine[i] = items[i].value;
  const std::vector<std::uint64_t> all = all_gather_values(comm, std::span<const std::uint64_t>(mine));
  const std::size_t ranks = counts.size(), n = items.size();
  for (std::size_t i = 0; i < n; ++i) {
    bool same = true;
    for (std::size_t r = 1; r < ranks; ++r) same = same && all[r * n + i] == all[i];
    if (same) continue;
    std::ostringstream message;
    message << where << ": the ranks disagree on " << items[i].what << " (fingerprints:";
    for (std::size_t r = 0; r < ranks; ++r)
      message << (r ? ", " : " ") << "rank " << r << " 0x" << std::hex << std::setw(16) << std::setfill('0')
              << all[r * n + i] << std::dec;
    message << "); every rank must run the same command with the same options on the same files";
    throw disagreement(message.str());
  }
}

}  // namespace gift::distributed
