// The distributed interface in a binary built without MPI: rank 0 of 1, collectives are no-ops,
// and a launch as part of a larger job is refused (N copies training alone would each write the
// same checkpoint and report N different results).
#include "kiln/distributed.hpp"

#include <cstdio>
#include <cstdlib>

#include "kiln/error.hpp"
#include "launcher.hpp"

namespace kiln::distributed {

void start() {
    const std::optional<int> job = detail::launched_job_size();
    if (job && *job != 1)
        fail(
            "started by an MPI launcher{}, but this binary was built without MPI: configure with libopenmpi-dev "
            "installed (and -DKILN_MPI=ON, the default) to train data-parallel, or run it without mpirun",
            *job > 1 ? fmt::format(" as one of {} processes", *job) : "");
}
void finish() {}
void abort_job(int exit_code) {
    std::fflush(nullptr);
    std::_Exit(exit_code);
}
int rank() { return 0; }
int size() { return 1; }
int local_size() { return 1; }
void sum(std::span<float>) {}
void sum(std::span<double>) {}
void start_sum(std::span<float> values, float scale) {  // the sum over one rank of the scaled values
    if (scale != 1.0f)
        for (float& v : values) v *= scale;
}
void wait_for_sums() {}
void broadcast(std::span<float>) {}
void broadcast(std::string&) {}
bool same_on_every_rank(uint64_t) { return true; }
void check_collectives(bool) {}

}  // namespace kiln::distributed
