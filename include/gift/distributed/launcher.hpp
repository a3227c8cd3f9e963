#pragma once
/// \file gift/distributed/launcher.hpp
/// \brief `gift::distributed::launched_ranks`: whether an MPI launcher (mpirun, mpiexec, srun)
/// started this process, and with how many ranks — read from the environment, so that a program
/// built without MPI can still refuse to run as N unconnected copies.

#include <cstdlib>
#include <string>

namespace gift::distributed {

/// The number of ranks the launcher started, from the variables Open MPI (`OMPI_COMM_WORLD_SIZE`),
/// MPICH/Hydra and Slurm's PMI (`PMI_SIZE`) and PMIx launchers (`PMIX_RANK`, size unknown: 2 is
/// returned as "more than one, ask MPI") put in each process's environment; 0 when none is set
/// (the process was started directly).
[[nodiscard]] inline int launched_ranks() noexcept {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      char* end = nullptr;
      const long ranks = std::strtol(value, &end, 10);
      if (end != value && *end == '\0' && ranks > 0 && ranks < (1L << 24)) return static_cast<int>(ranks);
    }
  }
  if (const char* value = std::getenv("PMIX_RANK"); value != nullptr && *value != '\0') return 2;
  return 0;
}

}  // namespace gift::distributed
