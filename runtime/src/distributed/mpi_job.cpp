// The distributed interface over MPI (Open MPI on Debian): MPI_COMM_WORLD is the job; errors come
// back as kiln::Error (MPI_ERRORS_RETURN), which the CLI turns into MPI_Abort of the whole job.
// The C API only: Open MPI's deprecated C++ bindings would need libmpi_cxx at link time.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <fmt/ranges.h>

#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "launcher.hpp"

namespace kiln::distributed {

namespace {

struct Job {
    bool started = false, finished = false, check = false;
    int rank = 0, size = 1, local_size = 1;
    uint64_t collectives = 0;  // issued so far: the position the collective check names
};
Job& job() {
    static Job state;
    return state;
}

void require(int status, const char* call) {
    if (status == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, text, &length);
    fail("{} failed on rank {} of {}: {}", call, job().rank, job().size, std::string(text, std::size_t(length)));
}

enum class Collective : uint64_t { sum_float = 1, sum_double, broadcast_float, broadcast_bytes, same_value };
const char* name(uint64_t kind) {
    switch (Collective(kind)) {
        case Collective::sum_float: return "a float sum";
        case Collective::sum_double: return "a double sum";
        case Collective::broadcast_float: return "a float broadcast";
        case Collective::broadcast_bytes: return "a byte broadcast";
        case Collective::same_value: return "an equality check";
    }
    return "an unknown collective";
}

// Counts the collective and, when checking, compares it with every other rank's (kind, size).
void announce(Collective kind, std::size_t count) {
    Job& j = job();
    ++j.collectives;
    if (!j.check || !j.started) return;
    const uint64_t mine[2] = {uint64_t(kind), uint64_t(count)};
    std::vector<uint64_t> all(2 * std::size_t(j.size));
    require(MPI_Allgather(mine, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
    std::vector<std::string> issued;
    bool same = true;
    for (int r = 0; r < j.size; ++r) {
        same = same && all[2 * r] == mine[0] && all[2 * r + 1] == mine[1];
        issued.push_back(fmt::format("rank {}: {} of {}", r, name(all[2 * r]), all[2 * r + 1]));
    }
    if (!same)
        fail("--check-collectives: collective #{} differs between ranks ({})", j.collectives, fmt::join(issued, "; "));
}

// MPI counts are ints: larger spans go in pieces.
template <class T, class Call> void in_pieces(std::span<T> values, Call call) {
    constexpr std::size_t piece = std::size_t(1) << 30;
    for (std::size_t at = 0; at < values.size(); at += piece)
        call(values.data() + at, int(std::min(piece, values.size() - at)));
}

}  // namespace

void start() {
    Job& j = job();
    if (j.started || !detail::launched_job_size()) return;
    int provided = 0;
    // Only the main thread calls MPI (the kernels' worker threads never do).
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        fail("MPI_Init_thread failed: cannot join the job the launcher started");
    j.started = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    require(MPI_Comm_rank(MPI_COMM_WORLD, &j.rank), "MPI_Comm_rank");
    require(MPI_Comm_size(MPI_COMM_WORLD, &j.size), "MPI_Comm_size");
    // Another MPI's launcher (MPICH's mpiexec for an Open MPI binary) starts N processes that each
    // join a job of one: N copies would train alone and write the same checkpoint.
    if (const int announced = *detail::launched_job_size(); announced > 0 && announced != j.size)
        fail(
            "the launcher started {} processes, but MPI joined a job of {}: the launcher belongs to another MPI "
            "than the one this binary was built with; start it with that one's mpirun",
            announced, j.size);
    MPI_Comm machine;
    require(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, j.rank, MPI_INFO_NULL, &machine),
            "MPI_Comm_split_type");
    require(MPI_Comm_size(machine, &j.local_size), "MPI_Comm_size");
    MPI_Comm_free(&machine);
}

void finish() {
    Job& j = job();
    if (!j.started || j.finished) return;
    j.finished = true;
    MPI_Finalize();
}

void abort_job(int exit_code) {
    std::fflush(nullptr);  // the message that says why must not be lost with the process
    if (job().started && !job().finished) MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
}

int rank() { return job().rank; }
int size() { return job().size; }
int local_size() { return job().local_size; }

void sum(std::span<float> values) {
    if (!active()) return;
    announce(Collective::sum_float, values.size());
    in_pieces(values, [](float* data, int count) {
        require(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    });
}

void sum(std::span<double> values) {
    if (!active()) return;
    announce(Collective::sum_double, values.size());
    in_pieces(values, [](double* data, int count) {
        require(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    });
}

void broadcast(std::span<float> values) {
    if (!active()) return;
    announce(Collective::broadcast_float, values.size());
    in_pieces(values, [](float* data, int count) {
        require(MPI_Bcast(data, count, MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Bcast");
    });
}

void broadcast(std::string& bytes) {
    if (!active()) return;
    announce(Collective::broadcast_bytes, 0);  // the size is what is being sent
    uint64_t length = bytes.size();
    require(MPI_Bcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
    if (!root()) bytes.resize(length);
    in_pieces(std::span<char>(bytes), [](char* data, int count) {
        require(MPI_Bcast(data, count, MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
    });
}

bool same_on_every_rank(uint64_t value) {
    if (!active()) return true;
    announce(Collective::same_value, 1);
    // The maximum of v and of ~v: both are v's (and ~v's) exactly when no rank's value differs.
    uint64_t both[2] = {value, ~value};
    require(MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return both[0] == value && both[1] == ~value;
}

void check_collectives(bool enabled) { job().check = enabled; }

}  // namespace kiln::distributed
