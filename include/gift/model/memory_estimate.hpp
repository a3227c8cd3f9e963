#pragma once
/// \file gift/model/memory_estimate.hpp
/// \brief How much memory a forward pass, a training step, a calibration pass or text generation
/// holds beyond the weights, and how much this process may still allocate: so that a batch too
/// large for the machine is refused with the option to lower, instead of ending in
/// `std::bad_alloc` or the kernel's OOM killer.
///
/// The estimates count fp32 activations per token (rows are tokens, sequence after sequence):
/// - evaluation: one block's working set at a time (x, its norm, q, k, v, attention output and
///   o-projection, the MLP's gate, up and their product): `5·hidden + 2·kv_dim + 3·ffn` values;
/// - training: every block's saved activations (input, q, k, v, attention output, gate, up, and
///   a hidden-sized working buffer): `layers · (5·hidden + 2·kv_dim + 2·ffn)` values, plus the
///   working set above.
/// Measured on SmolLM2-135M (peak resident set, batch 64 against 1 at 256 tokens for evaluation,
/// batch 16 against 8 for a GIFT-SW step): 28.9 KB per token evaluated (estimate 31.5 KB) and
/// 651 KB per token trained (estimate 792 KB) — upper estimates within 25 %.

#include <gift/error.hpp>
#include <gift/model/config.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#if defined(__linux__)
#include <sys/resource.h>
#endif

namespace gift::model {

namespace detail {
inline std::uint64_t saturating_bytes(long double values) {
  const long double bytes = values * 4.0L;
  return bytes >= static_cast<long double>(std::numeric_limits<std::uint64_t>::max())
             ? std::numeric_limits<std::uint64_t>::max()
             : static_cast<std::uint64_t>(bytes);
}
inline long double working_values_per_token(const llama_config& c) {
  const long double kv_dim = static_cast<long double>(c.kv_heads) * static_cast<long double>(c.head_dim);
  return 5.0L * c.hidden + 2.0L * kv_dim + 3.0L * c.ffn;
}
}  // namespace detail

/// Upper estimate of the bytes an evaluation-mode forward pass over `sequences` × `length` tokens
/// holds beyond the weights (fp32), the output head's row chunk included. Saturates instead of
/// overflowing for absurd sizes.
[[nodiscard]] inline std::uint64_t evaluation_bytes(const llama_config& c, std::int64_t sequences, std::int64_t length) {
  const long double tokens = static_cast<long double>(std::max<std::int64_t>(sequences, 0)) *
                             static_cast<long double>(std::max<std::int64_t>(length, 0));
  const long double head_chunk = 2.0L * 128.0L * static_cast<long double>(c.vocab);  // logits and their softmax
  return detail::saturating_bytes(tokens * detail::working_values_per_token(c) + head_chunk);
}

/// Upper estimate of the bytes a training step (forward with saved activations, then backward)
/// over `sequences` × `length` tokens holds beyond the weights and the optimizer state.
[[nodiscard]] inline std::uint64_t training_bytes(const llama_config& c, std::int64_t sequences, std::int64_t length) {
  const long double tokens = static_cast<long double>(std::max<std::int64_t>(sequences, 0)) *
                             static_cast<long double>(std::max<std::int64_t>(length, 0));
  const long double kv_dim = static_cast<long double>(c.kv_heads) * static_cast<long double>(c.head_dim);
  const long double saved = static_cast<long double>(c.layers) * (5.0L * c.hidden + 2.0L * kv_dim + 2.0L * c.ffn);
  const long double head_chunk = 2.0L * 128.0L * static_cast<long double>(c.vocab);
  return detail::saturating_bytes(tokens * (saved + detail::working_values_per_token(c)) + head_chunk);
}

/// Upper estimate of the bytes a calibration pass holds beyond the weights: an evaluation-mode
/// forward pass over `sequences` × `length` tokens and, with `gram`, the Gram matrices — one
/// `in × in` matrix of doubles per distinct layer input of every block (q, k and v share the
/// attention input, gate and up the MLP's: `2·hidden² + (heads·head_dim)² + ffn²` per block) —
/// for each of the `shards` shards this process accumulates (a shard keeps its own until the
/// merge). 805 MB per shard for SmolLM2-135M, 44 GB for a LLaMA-2-7B shape.
[[nodiscard]] inline std::uint64_t calibration_bytes(const llama_config& c, std::int64_t sequences, std::int64_t length,
                                                     bool gram, std::int64_t shards) {
  const std::uint64_t forward = evaluation_bytes(c, sequences, length);
  if (!gram) return forward;
  const long double h = c.hidden, q = static_cast<long double>(c.heads) * static_cast<long double>(c.head_dim),
                    f = c.ffn;
  const long double doubles = static_cast<long double>(std::max<std::int64_t>(shards, 0)) *
                              static_cast<long double>(c.layers) * (2.0L * h * h + q * q + f * f);
  const std::uint64_t grams = detail::saturating_bytes(2.0L * doubles);  // a double is two floats' bytes
  return grams > std::numeric_limits<std::uint64_t>::max() - forward ? std::numeric_limits<std::uint64_t>::max()
                                                                      : forward + grams;
}

/// Upper estimate of the bytes text generation holds beyond the weights: the prompt's forward pass
/// (`prompt` tokens, one sequence), a KV cache grown to `positions` positions (keys and values of
/// every block; it grows by doubling from 64 rows, so while it grows the old and new rows coexist:
/// up to `3·max(positions, 64)` rows, `capacity` at most), and the RoPE table (cosines and sines of
/// `rope_dim / 2` frequencies) over `capacity` positions.
[[nodiscard]] inline std::uint64_t generation_bytes(const llama_config& c, std::int64_t prompt, std::int64_t positions,
                                                    std::int64_t capacity) {
  const long double kv_dim = static_cast<long double>(c.kv_heads) * static_cast<long double>(c.head_dim);
  const long double rows = std::min(3.0L * static_cast<long double>(std::max<std::int64_t>(positions, 64)),
                                    static_cast<long double>(std::max<std::int64_t>(capacity, 1)));
  const long double cache = static_cast<long double>(c.layers) * 2.0L * rows * kv_dim;
  const long double rope = static_cast<long double>(std::max<std::int64_t>(capacity, 0)) * static_cast<long double>(c.rope_dim);
  const std::uint64_t forward = evaluation_bytes(c, 1, prompt);
  const std::uint64_t rest = detail::saturating_bytes(cache + rope);
  return rest > std::numeric_limits<std::uint64_t>::max() - forward ? std::numeric_limits<std::uint64_t>::max()
                                                                     : forward + rest;
}

/// What this process may still allocate, in bytes: the smaller of the system's available memory
/// (`MemAvailable` in /proc/meminfo) and the room left under the process's limits on its address
/// space and data (`ulimit -v`, `RLIMIT_DATA`). The largest `std::uint64_t` where none is known
/// (other systems).
[[nodiscard]] inline std::uint64_t allocatable_bytes() {
  std::uint64_t room = std::numeric_limits<std::uint64_t>::max();
#if defined(__linux__)
  const auto kib_field = [](const char* file, std::string_view key) -> std::uint64_t {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      if (line.compare(0, key.size(), key) != 0) continue;
      std::istringstream value(line.substr(key.size()));
      std::uint64_t kib = 0;
      if (value >> kib) return kib * 1024;
    }
    return std::numeric_limits<std::uint64_t>::max();
  };
  room = std::min(room, kib_field("/proc/meminfo", "MemAvailable:"));
  const auto under = [&](int resource, const char* usage_key) {
    rlimit limit{};
    if (::getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
    const std::uint64_t used = kib_field("/proc/self/status", usage_key);
    const auto cap = static_cast<std::uint64_t>(limit.rlim_cur);
    room = std::min(room, used == std::numeric_limits<std::uint64_t>::max() || used >= cap ? 0 : cap - used);
  };
  under(RLIMIT_AS, "VmSize:");
  under(RLIMIT_DATA, "VmData:");
#endif
  return room;
}

/// The largest resident set this process has had so far, in bytes (`getrusage`'s `ru_maxrss`):
/// what a run really needed, for reports beside the estimates above. 0 where the system does not
/// say (other than Linux).
[[nodiscard]] inline std::uint64_t peak_resident_bytes() {
#if defined(__linux__)
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0 && usage.ru_maxrss > 0) return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
#endif
  return 0;
}

/// Refuses work whose estimate `need` exceeds `allocatable_bytes()`: the message says what needs
/// the memory (`what`, e.g. "gift eval: a batch of 4096 sequences of 256 tokens"), both figures
/// in GiB, and the option to lower (`lower`, e.g. "--batch").
/// \throws gift::error when the estimate does not fit.
inline void require_memory(std::uint64_t need, const std::string& what, const std::string& lower) {
  const std::uint64_t room = allocatable_bytes();
  if (need <= room) return;
  const auto gib = [](std::uint64_t bytes) {
    std::ostringstream out;
    out.precision(3);
    out << static_cast<double>(bytes) / static_cast<double>(std::uint64_t{1} << 30);
    return out.str();
  };
  throw error(what + " needs about " + gib(need) + " GiB of activations beyond the weights, but this process can " +
              "allocate " + gib(room) + " GiB (available memory and ulimit); lower " + lower);
}

}  // namespace gift::model
