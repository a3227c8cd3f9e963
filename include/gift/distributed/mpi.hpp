#pragma once
/// \file gift/distributed/mpi.hpp
/// \brief `gift::distributed::mpi_communicator`: the ranks of an MPI run (`MPI_COMM_WORLD`) as a
/// `communicator`. Link `gift::mpi` (CMake `find_package(MPI)`; Debian: `openmpi-bin
/// libopenmpi-dev`).
///
/// MPI is initialised at thread level `MPI_THREAD_FUNNELED`: the thread that built the
/// communicator is the only one that calls MPI; gift's OpenMP threads never do.

#if !__has_include(<mpi.h>)
#error "gift/distributed/mpi.hpp needs MPI: link gift::mpi (install openmpi-bin and libopenmpi-dev, or another MPI)"
#endif

#include <gift/distributed/communicator.hpp>
#include <gift/error.hpp>

// Only MPI's C interface is used: keep the deprecated C++ bindings out (they do not compile
// warning-free).
#if !defined(OMPI_SKIP_MPICXX)
/// Tells Open MPI's mpi.h to leave out its C++ bindings.
#define OMPI_SKIP_MPICXX 1
#endif
#if !defined(MPICH_SKIP_MPICXX)
/// Tells MPICH's mpi.h to leave out its C++ bindings.
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace gift::distributed {

/// The ranks of `MPI_COMM_WORLD`. Initialises MPI when it is not yet initialised, and then
/// finalises it in the destructor. Not copyable; create one per process.
class mpi_communicator final : public communicator {
public:
  /// Joins the MPI run (`MPI_Init_thread` with `argc`/`argv` where given).
  /// \throws gift::error when MPI cannot be initialised.
  mpi_communicator(int* argc = nullptr, char*** argv = nullptr) {
    int initialised = 0;
    check(MPI_Initialized(&initialised), "MPI_Initialized");
    if (initialised == 0) {
      int provided = 0;
      check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_ = true;
    }
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  ~mpi_communicator() override {
    int finalised = 1;
    if (owns_ && MPI_Finalized(&finalised) == MPI_SUCCESS && finalised == 0) MPI_Finalize();
  }

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  [[nodiscard]] std::string engine() const override {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    if (MPI_Get_library_version(version, &length) != MPI_SUCCESS) return "MPI";
    std::string text(version, static_cast<std::size_t>(length));
    if (const auto end = text.find_first_of(",\n"); end != std::string::npos) text.resize(end);
    return "MPI (" + text + ")";
  }

  void all_to_all(std::span<const std::byte> send, std::span<const std::size_t> send_bytes,
                  std::span<std::byte> receive, std::span<const std::size_t> receive_bytes) override {
    const auto [send_counts, send_offsets] = layout(send_bytes, send.size(), "all_to_all", "send");
    const auto [receive_counts, receive_offsets] = layout(receive_bytes, receive.size(), "all_to_all", "receive");
    check(MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_BYTE, receive.data(),
                        receive_counts.data(), receive_offsets.data(), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Alltoallv");
  }
  void all_gather(std::span<const std::byte> send, std::span<std::byte> receive,
                  std::span<const std::size_t> bytes) override {
    gift::detail::require(bytes.size() == static_cast<std::size_t>(size_) &&
                              send.size() == bytes[static_cast<std::size_t>(rank_)],
                          "gift::distributed::mpi_communicator::all_gather: rank ", rank_, " sends ", send.size(),
                          " bytes, but the counts say ", bytes.size() > static_cast<std::size_t>(rank_)
                                                            ? bytes[static_cast<std::size_t>(rank_)] : 0);
    const auto [counts, offsets] = layout(bytes, receive.size(), "all_gather", "receive");
    check(MPI_Allgatherv(send.data(), static_cast<int>(send.size()), MPI_BYTE, receive.data(), counts.data(),
                         offsets.data(), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; should an implementation, still end here
  }

private:
  struct counts_and_offsets {
    std::vector<int> counts, offsets;
  };
  /// MPI counts bytes in `int`: per-rank counts and their offsets, checked against the buffer.
  [[nodiscard]] counts_and_offsets layout(std::span<const std::size_t> bytes, std::size_t buffer, const char* function,
                                          const char* side) const {
    const char* where = "gift::distributed::mpi_communicator::";
    gift::detail::require(bytes.size() == static_cast<std::size_t>(size_), where, function, ": ", side,
                          " counts name ", bytes.size(), " ranks, but the run has ", size_);
    counts_and_offsets out{std::vector<int>(bytes.size()), std::vector<int>(bytes.size())};
    std::size_t total = 0;
    for (std::size_t r = 0; r < bytes.size(); ++r) {
      gift::detail::require(bytes[r] <= INT_MAX && total <= INT_MAX, where, function, ": ", side, " of ", bytes[r],
                            " bytes at offset ", total, " exceeds what MPI counts in an int; send it in chunks");
      out.counts[r] = static_cast<int>(bytes[r]);
      out.offsets[r] = static_cast<int>(total);
      total += bytes[r];
    }
    gift::detail::require(total == buffer, where, function, ": the ", side, " counts add up to ", total,
                          " bytes, but the buffer holds ", buffer);
    return out;
  }
  static void check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw error(gift::detail::concat("gift::distributed::mpi_communicator: ", call, " failed: ",
                                     std::string(text, static_cast<std::size_t>(length))));
  }

  int rank_ = 0, size_ = 1;
  bool owns_ = false;
};

}  // namespace gift::distributed
