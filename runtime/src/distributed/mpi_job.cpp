// The distributed interface over MPI (Open MPI on Debian): MPI_COMM_WORLD is the job; errors come
// back as kiln::Error (MPI_ERRORS_RETURN), which the CLI turns into MPI_Abort of the whole job.
// The C API only: Open MPI's deprecated C++ bindings would need libmpi_cxx at link time.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/ranges.h>

#include "kiln/distributed.hpp"
#include "kiln/error.hpp"
#include "launcher.hpp"

namespace kiln::distributed {

namespace {

struct Job {
    bool started = false, finished = false, check = false;
    bool threads = false;  // MPI granted MPI_THREAD_SERIALIZED: background sums have a thread of their own
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

void scale(std::span<float> values, float factor) {
    if (factor != 1.0f)
        for (float& v : values) v *= factor;
}

// The sums start_sum begins: queued in order and issued as MPI_Iallreduce by one communication
// thread, which then polls MPI_Testall every few microseconds until they complete. Open MPI
// progresses a non-blocking collective only inside MPI calls, so someone must keep calling; a
// blocking wait would spin on a core the kernels need. Only one thread is ever inside MPI: the
// caller issues no other collective until wait() returned (MPI_THREAD_SERIALIZED). Without
// threads from MPI, wait() issues the queued sums itself, one blocking allreduce each.
class BackgroundSums {
public:
    void start(std::span<float> values, float scale) {
        std::lock_guard lock(mutex_);
        if (error_) return;  // wait() throws it
        queued_.push_back({values, scale});
        ++unfinished_;
        if (job().threads && !thread_.joinable()) thread_ = std::thread([this] { loop(); });
        work_.notify_one();
    }

    void wait() {
        if (!job().threads) {
            std::deque<Sum> queued;
            {
                std::lock_guard lock(mutex_);
                queued.swap(queued_);
                unfinished_ = 0;
            }
            for (const Sum& s : queued) {
                scale(s.values, s.scale);
                sum(s.values);
            }
            return;
        }
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return unfinished_ == 0 || error_; });
        if (error_) std::rethrow_exception(error_);
    }

    // Before MPI_Finalize: the thread leaves MPI and ends.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

private:
    struct Sum {
        std::span<float> values;
        float scale;
    };

    void loop() {
        std::vector<MPI_Request> in_flight;
        std::size_t in_flight_sums = 0;
        for (;;) {
            std::deque<Sum> starting;
            {
                std::unique_lock lock(mutex_);
                if (in_flight.empty()) work_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
                if (in_flight.empty() && queued_.empty()) return;  // stopping, nothing left
                starting.swap(queued_);
            }
            try {
                for (const Sum& s : starting) issue(s, in_flight);
                in_flight_sums += starting.size();
                int done = 0;
                require(MPI_Testall(int(in_flight.size()), in_flight.data(), &done, MPI_STATUSES_IGNORE),
                        "MPI_Testall");
                if (done) {
                    in_flight.clear();
                    std::lock_guard lock(mutex_);
                    unfinished_ -= std::exchange(in_flight_sums, 0);
                    if (unfinished_ == 0) idle_.notify_all();
                } else {
                    std::this_thread::sleep_for(std::chrono::microseconds(20));
                }
            } catch (...) {  // the caller's wait() throws it; the CLI then ends the job
                std::lock_guard lock(mutex_);
                error_ = std::current_exception();
                idle_.notify_all();
                return;
            }
        }
    }

    static void issue(const Sum& s, std::vector<MPI_Request>& requests) {
        scale(s.values, s.scale);
        announce(Collective::sum_float, s.values.size());
        in_pieces(s.values, [&](float* data, int count) {
            MPI_Request request;
            require(MPI_Iallreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
                    "MPI_Iallreduce");
            requests.push_back(request);
        });
    }

    std::mutex mutex_;
    std::condition_variable work_, idle_;
    std::deque<Sum> queued_;
    std::size_t unfinished_ = 0;  // queued or in flight
    std::exception_ptr error_;
    bool stopping_ = false;
    std::thread thread_;
};

// Never destroyed: a thread still joinable at exit would call std::terminate (finish() joins it).
BackgroundSums& background_sums() {
    static BackgroundSums* sums = new BackgroundSums;
    return *sums;
}

}  // namespace

void start() {
    Job& j = job();
    if (j.started || !detail::launched_job_size()) return;
    int provided = 0;
    // One thread at a time calls MPI: the main thread, or the communication thread of start_sum
    // while the main thread runs kernels (the kernels' worker threads never do).
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        fail("MPI_Init_thread failed: cannot join the job the launcher started");
    j.started = true;
    j.threads = provided >= MPI_THREAD_SERIALIZED;
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
    background_sums().stop();
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
    wait_for_sums();
    announce(Collective::sum_float, values.size());
    in_pieces(values, [](float* data, int count) {
        require(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    });
}

void sum(std::span<double> values) {
    if (!active()) return;
    wait_for_sums();
    announce(Collective::sum_double, values.size());
    in_pieces(values, [](double* data, int count) {
        require(MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    });
}

void broadcast(std::span<float> values) {
    if (!active()) return;
    wait_for_sums();
    announce(Collective::broadcast_float, values.size());
    in_pieces(values, [](float* data, int count) {
        require(MPI_Bcast(data, count, MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Bcast");
    });
}

void broadcast(std::string& bytes) {
    if (!active()) return;
    wait_for_sums();
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
    wait_for_sums();
    announce(Collective::same_value, 1);
    // The maximum of v and of ~v: both are v's (and ~v's) exactly when no rank's value differs.
    uint64_t both[2] = {value, ~value};
    require(MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return both[0] == value && both[1] == ~value;
}

void start_sum(std::span<float> values, float factor) {
    if (!active()) return distributed::scale(values, factor);  // the sum over one rank of the scaled values
    background_sums().start(values, factor);
}

void wait_for_sums() {
    if (active()) background_sums().wait();
}

void check_collectives(bool enabled) { job().check = enabled; }

}  // namespace kiln::distributed
