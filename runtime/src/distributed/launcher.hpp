// Whether an MPI launcher started this process, read from the variables launchers set: decided
// before MPI_Init, so that a binary started alone never initializes MPI.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

namespace kiln::distributed::detail {

// The job's size as the launcher announced it; 0 when launched by one that does not say (PMIx
// alone); nothing when no launcher started this process.
inline std::optional<int> launched_job_size() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})  // Open MPI's mpirun; MPICH's, Slurm's PMI
        if (const char* value = std::getenv(name)) return std::max(0, std::atoi(value));
    if (std::getenv("PMIX_RANK")) return 0;
    return std::nullopt;
}

}  // namespace kiln::distributed::detail
