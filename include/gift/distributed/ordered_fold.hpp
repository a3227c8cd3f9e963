#pragma once
/// \file gift/distributed/ordered_fold.hpp
/// \brief `gift::distributed::ordered_fold` / `ordered_sum`: combine one vector per shard,
/// element by element, strictly in shard order, on every rank — the same bits for any number of
/// ranks, because the order of the additions is fixed by the shards, not by the ranks.
///
/// MPI's own reductions leave the order of the operands (and so the rounding of a sum) to the
/// implementation. Here every element is folded by one rank, left to right over the shards:
/// `result[i] = combine(… combine(combine(x₀[i], x₁[i], i), x₂[i], i) …, x_{S−1}[i], i)`. The
/// vector is cut into one slice per rank; an all-to-all brings each rank every shard's part of its
/// slice, the rank folds its slice, and an all-gather hands the folded slices to everyone. Each
/// rank sends `(its shards) · n · (R − 1)/R` elements and receives as many in the first step, and
/// `n · (R − 1)/R` each way in the second — with one shard per rank, the volume of a ring
/// all-reduce.

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace gift::distributed {

/// Tunables of `ordered_fold`.
struct fold_options {
  /// Elements of the vector per round of messages. Bounds the staging buffers (the rank's shards
  /// times this) and keeps each message's byte count within what MPI counts in an `int`.
  std::size_t chunk_elements = std::size_t{1} << 22;
};

/// Folds the shards' vectors in shard order into `result` (`n` elements) on every rank.
/// `owned` holds this rank's shards' vectors, shard after shard (`plan.count(rank) · n` elements,
/// shard `plan.first(rank)` first). `combine(accumulated, next, i)` returns the new value of
/// element `i`; it sees the shards in order 0, 1, …, S − 1, whatever the number of ranks.
/// Every rank must call it with the same plan and `n`.
/// \throws gift::error when the plan's ranks are not the communicator's, `owned` has the wrong
/// length, or the ranks pass different `n` (then on every rank).
template <transferable T, class Combine>
  requires std::is_invocable_r_v<T, Combine&, T, T, std::size_t>
void ordered_fold(communicator& comm, const shard_plan& plan, std::span<const T> owned, std::span<T> result,
                  Combine combine, fold_options options = {}) {
  const char* where = "gift::distributed::ordered_fold";
  const int ranks = comm.size(), me = comm.rank();
  gift::detail::require(plan.ranks() == ranks, where, ": the plan spreads its shards over ", plan.ranks(),
                        " rank(s), but the communicator has ", ranks);
  gift::detail::require(options.chunk_elements > 0, where, ": fold_options::chunk_elements must be positive");
  const std::size_t n = result.size();
  const auto mine = static_cast<std::size_t>(plan.count(me));
  gift::detail::require(owned.size() == mine * n, where, ": argument 'owned' must hold this rank's ", mine,
                        " shard(s) of ", n, " elements (", mine * n, "), but holds ", owned.size());
  const auto shards = static_cast<std::size_t>(plan.shards());
  if (ranks == 1) {
    for (std::size_t i = 0; i < n; ++i) {
      T accumulated = owned[i];
      for (std::size_t s = 1; s < shards; ++s) accumulated = combine(accumulated, owned[s * n + i], i);
      result[i] = accumulated;
    }
    return;
  }
  // A rank that passes another length would make the messages below disagree: stop everyone.
  const std::uint64_t length = n;
  const std::vector<std::uint64_t> lengths = all_gather_values(comm, std::span<const std::uint64_t>(&length, 1));
  for (int r = 0; r < ranks; ++r)
    gift::detail::require(lengths[static_cast<std::size_t>(r)] == length, where, ": rank ", r, " folds vectors of ",
                          lengths[static_cast<std::size_t>(r)], " elements, but rank ", me, " folds ", length,
                          "; every rank must fold the same vector");

  const auto ranks_z = static_cast<std::size_t>(ranks);
  std::vector<std::size_t> send_bytes(ranks_z), receive_bytes(ranks_z), gather_bytes(ranks_z);
  std::vector<T> send, receive, slice;
  for (std::size_t start = 0; start < n; start += options.chunk_elements) {
    const std::size_t m = std::min(options.chunk_elements, n - start);
    // Rank q folds elements [start + m·q/R, start + m·(q+1)/R) of this chunk.
    const auto lo = [&](std::size_t q) { return start + m * q / ranks_z; };
    send.resize(mine * m);
    std::size_t at = 0;
    for (std::size_t q = 0; q < ranks_z; ++q) {
      const std::size_t width = lo(q + 1) - lo(q);
      for (std::size_t s = 0; s < mine; ++s) {
        std::copy_n(owned.begin() + static_cast<std::ptrdiff_t>(s * n + lo(q)), width,
                    send.begin() + static_cast<std::ptrdiff_t>(at));
        at += width;
      }
      send_bytes[q] = mine * width * sizeof(T);
    }
    const std::size_t width = lo(static_cast<std::size_t>(me) + 1) - lo(static_cast<std::size_t>(me));
    for (int r = 0; r < ranks; ++r)
      receive_bytes[static_cast<std::size_t>(r)] = static_cast<std::size_t>(plan.count(r)) * width * sizeof(T);
    // Ranks own contiguous shard ranges in rank order, so the received blocks are in shard order.
    receive.resize(shards * width);
    comm.all_to_all(std::as_bytes(std::span<const T>(send)), send_bytes, std::as_writable_bytes(std::span<T>(receive)),
                    receive_bytes);
    slice.resize(width);
    const std::size_t first = lo(static_cast<std::size_t>(me));
    for (std::size_t i = 0; i < width; ++i) {
      T accumulated = receive[i];
      for (std::size_t s = 1; s < shards; ++s) accumulated = combine(accumulated, receive[s * width + i], first + i);
      slice[i] = accumulated;
    }
    for (std::size_t q = 0; q < ranks_z; ++q) gather_bytes[q] = (lo(q + 1) - lo(q)) * sizeof(T);
    comm.all_gather(std::as_bytes(std::span<const T>(slice)),
                    std::as_writable_bytes(result.subspan(start, m)), gather_bytes);
  }
}

/// `ordered_fold` with `+`: `result[i] = ((x₀[i] + x₁[i]) + x₂[i]) + …` in shard order.
template <transferable T>
  requires requires(T a, T b) {
    { a + b } -> std::convertible_to<T>;
  }
void ordered_sum(communicator& comm, const shard_plan& plan, std::span<const T> owned, std::span<T> result,
                 fold_options options = {}) {
  ordered_fold(comm, plan, owned, result, [](T a, T b, std::size_t) -> T { return a + b; }, options);
}

}  // namespace gift::distributed
