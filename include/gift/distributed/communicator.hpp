#pragma once
/// \file gift/distributed/communicator.hpp
/// \brief `gift::distributed::communicator`: the processes ("ranks") of one data-parallel run and
/// the few collective operations gift needs from them; `single_process`, the run of one.
///
/// The interface is small on purpose: byte-level all-to-all, all-gather and barrier are enough for
/// the order-fixed reductions of `ordered_fold.hpp` and the agreement check of `agreement.hpp`,
/// and every engine offers them. The library stays usable without MPI: `single_process` needs
/// nothing, `mpi_communicator` (`gift/distributed/mpi.hpp`, target `gift::mpi`) runs over MPI, and
/// `nccl_communicator` (`gift/distributed/nccl.cuh`, target `gift::nccl`) moves device buffers.

#include <gift/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace gift::distributed {

/// The ranks of one run. Every collective must be called by every rank, in the same order, with
/// sizes that agree (what rank r sends to rank q is what rank q expects from rank r).
class communicator {
public:
  virtual ~communicator() = default;
  communicator() = default;
  communicator(const communicator&) = delete;
  communicator& operator=(const communicator&) = delete;

  /// This process's rank, 0 ≤ rank < size.
  [[nodiscard]] virtual int rank() const = 0;
  /// Number of ranks.
  [[nodiscard]] virtual int size() const = 0;
  /// What runs the ranks, for reports ("single process", "MPI (Open MPI v4.1.4)").
  [[nodiscard]] virtual std::string engine() const = 0;

  /// Personalised all-to-all: `send` holds, rank after rank, `send_bytes[q]` bytes for rank q;
  /// `receive` gets, rank after rank, the `receive_bytes[r]` bytes rank r sent here.
  virtual void all_to_all(std::span<const std::byte> send, std::span<const std::size_t> send_bytes,
                          std::span<std::byte> receive, std::span<const std::size_t> receive_bytes) = 0;
  /// Every rank's `send` (`bytes[r]` bytes from rank r) concatenated in rank order into `receive`
  /// on every rank.
  virtual void all_gather(std::span<const std::byte> send, std::span<std::byte> receive,
                          std::span<const std::size_t> bytes) = 0;
  /// Returns when every rank has called it.
  virtual void barrier() = 0;
  /// Ends every rank of the run with exit status `code`. For a failure only this rank saw: the
  /// others may be waiting in a collective and would wait forever. Print the reason first.
  [[noreturn]] virtual void abort(int code) = 0;
};

/// The run of one process: every collective is a copy, `abort` exits.
class single_process final : public communicator {
public:
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int size() const override { return 1; }
  [[nodiscard]] std::string engine() const override { return "single process"; }
  void all_to_all(std::span<const std::byte> send, std::span<const std::size_t> send_bytes,
                  std::span<std::byte> receive, std::span<const std::size_t> receive_bytes) override {
    check_one(send_bytes.size(), "all_to_all", "send_bytes");
    check_one(receive_bytes.size(), "all_to_all", "receive_bytes");
    copy(send, send_bytes[0], receive, receive_bytes[0], "all_to_all");
  }
  void all_gather(std::span<const std::byte> send, std::span<std::byte> receive,
                  std::span<const std::size_t> bytes) override {
    check_one(bytes.size(), "all_gather", "bytes");
    copy(send, bytes[0], receive, bytes[0], "all_gather");
  }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }

private:
  static void check_one(std::size_t count, const char* function, const char* argument) {
    gift::detail::require(count == 1, "gift::distributed::single_process::", function, ": argument '", argument,
                          "' must hold one count (one rank), but holds ", count);
  }
  static void copy(std::span<const std::byte> send, std::size_t send_bytes, std::span<std::byte> receive,
                   std::size_t receive_bytes, const char* function) {
    gift::detail::require(send_bytes == receive_bytes && send.size() == send_bytes && receive.size() == receive_bytes,
                          "gift::distributed::single_process::", function, ": the one rank sends ", send.size(),
                          " bytes (counted ", send_bytes, ") but receives into ", receive.size(), " (counted ",
                          receive_bytes, "); the sizes must agree");
    if (send_bytes > 0) std::memcpy(receive.data(), send.data(), send_bytes);
  }
};

/// Element types the collectives move as raw bytes.
template <class T>
concept transferable = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>;

/// The values `mine` of every rank, rank after rank (a typed all-gather). Every rank must pass
/// the same number of values.
template <transferable T>
[[nodiscard]] std::vector<T> all_gather_values(communicator& comm, std::span<const T> mine) {
  const auto ranks = static_cast<std::size_t>(comm.size());
  std::vector<T> all(ranks * mine.size());
  const std::vector<std::size_t> bytes(ranks, mine.size_bytes());
  comm.all_gather(std::as_bytes(mine), std::as_writable_bytes(std::span<T>(all)), bytes);
  return all;
}

}  // namespace gift::distributed
