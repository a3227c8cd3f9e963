#pragma once
/// \file gift/distributed/shard_plan.hpp
/// \brief `gift::distributed::shard_plan`: a run's work cut into shards fixed by the data, and
/// which rank computes which.
///
/// Sums over tokens round differently when they are split differently, so a data-parallel result
/// that is to be the same for any number of ranks cannot follow the ranks. The work (a training
/// step's batch, a calibration's sequences) is instead cut into a fixed number of shards, numbered
/// in data order; each shard's contribution is computed on its own, from zero, and the
/// contributions are combined in shard order (`ordered_fold`). The ranks only decide who computes
/// which shard: rank r owns the contiguous range `[first(r), first(r) + count(r))`. One process with
/// the same number of shards computes every shard itself and gets the same bits.

#include <gift/error.hpp>

#include <cstdint>
#include <utility>

namespace gift::distributed {

/// `shards` shards over `ranks` ranks, each rank owning a contiguous, balanced range (rank r owns
/// shards `⌊r·S/R⌋ .. ⌊(r+1)·S/R⌋ − 1`), so shard order is rank order.
class shard_plan {
public:
  /// A plan of `shards` shards over `ranks` ranks.
  /// \throws gift::error unless `ranks ≥ 1` and `shards ≥ ranks` (a rank without a shard would
  /// only wait).
  shard_plan(std::int64_t shards, int ranks) : shards_(shards), ranks_(ranks) {
    gift::detail::require(ranks >= 1, "gift::distributed::shard_plan: argument 'ranks' must be at least 1, but is ",
                          ranks);
    gift::detail::require(shards >= ranks, "gift::distributed::shard_plan: ", shards, " shard(s) cannot keep ", ranks,
                          " ranks busy; use at least as many shards as ranks (--shards ", ranks, " or more)");
  }

  /// Number of shards.
  [[nodiscard]] std::int64_t shards() const noexcept { return shards_; }
  /// Number of ranks.
  [[nodiscard]] int ranks() const noexcept { return ranks_; }
  /// The first shard rank `rank` owns.
  [[nodiscard]] std::int64_t first(int rank) const {
    check_rank(rank);
    return shards_ * rank / ranks_;
  }
  /// How many shards rank `rank` owns (at least 1).
  [[nodiscard]] std::int64_t count(int rank) const {
    check_rank(rank);
    return shards_ * (rank + 1) / ranks_ - shards_ * rank / ranks_;
  }
  /// The rank that owns shard `shard`.
  [[nodiscard]] int owner(std::int64_t shard) const {
    gift::detail::require(shard >= 0 && shard < shards_, "gift::distributed::shard_plan::owner: shard ", shard,
                          " is outside [0, ", shards_, ")");
    int rank = static_cast<int>(shard * ranks_ / shards_);
    while (first(rank) > shard) --rank;
    while (rank + 1 < ranks_ && first(rank + 1) <= shard) ++rank;
    return rank;
  }

  /// The items `[begin, end)` of shard `shard` when `items` items (sequences) are cut into
  /// `shards` balanced, contiguous shards in order.
  /// \throws gift::error unless `0 ≤ shard < shards ≤ items`: every shard must hold an item.
  [[nodiscard]] static std::pair<std::int64_t, std::int64_t> items_of(std::int64_t items, std::int64_t shards,
                                                                      std::int64_t shard) {
    gift::detail::require(shards >= 1 && shards <= items, "gift::distributed::shard_plan::items_of: ", items,
                          " item(s) cannot fill ", shards, " shard(s); each shard needs at least one (use fewer "
                          "shards, or more sequences)");
    gift::detail::require(shard >= 0 && shard < shards, "gift::distributed::shard_plan::items_of: shard ", shard,
                          " is outside [0, ", shards, ")");
    return {items * shard / shards, items * (shard + 1) / shards};
  }

private:
  void check_rank(int rank) const {
    gift::detail::require(rank >= 0 && rank < ranks_, "gift::distributed::shard_plan: rank ", rank,
                          " is outside [0, ", ranks_, ")");
  }
  std::int64_t shards_;
  int ranks_;
};

}  // namespace gift::distributed
