// The thread pool behind the generated code's parallel loops (runtime/src/spinning_thread_pool.*):
// every iteration runs exactly once whatever the pool's size, a failing iteration's status comes
// back, a loop inside an iteration runs (serially) instead of deadlocking, and loops after the
// workers went to sleep still run; each thread runs its own contiguous block of a loop first (OpenMP's
// static schedule), so that consecutive loops find their data in the same core's cache. Generated
// code reaches it through halide_do_par_for.
#include <catch2/catch.hpp>

#include <HalideRuntime.h>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "spinning_thread_pool.hpp"

namespace {

struct Counts {
    std::vector<std::atomic<int>> runs;
    explicit Counts(int n) : runs(std::size_t(n)) {}
};

int count_iteration(void*, int i, uint8_t* closure) {
    reinterpret_cast<Counts*>(closure)->runs[std::size_t(i)].fetch_add(1);
    return 0;
}

// Iterations 3 and 7 fail with their own status.
int failing_iteration(void*, int i, uint8_t*) { return i == 3 || i == 7 ? 100 + i : 0; }

// Each outer iteration runs an inner loop of 5 through the pool and records it.
int nested_iteration(void*, int i, uint8_t* closure) {
    auto* counts = reinterpret_cast<Counts*>(closure);
    return kiln::SpinningThreadPool::instance().run(nullptr, count_iteration, i * 5, 5,
                                                    reinterpret_cast<uint8_t*>(counts));
}

// Four iterations on two threads, which record who ran them. Iteration 0 waits until iteration 2
// has started, 2 until 1 has, and 1 until 3 has: while one thread waits in its block, the other
// cannot steal from it — so with blocks {0, 1} and {2, 3} each thread must run its own; a
// first-come schedule hands 1 to the worker and fails. The waits give up after 10 s,
// so a worker the machine never schedules fails the test rather than hanging it.
struct Owners {
    std::atomic<std::thread::id> ran[4];
    std::atomic<bool> started[4] = {};
};

int recording_iteration(void*, int i, uint8_t* closure) {
    auto& owners = *reinterpret_cast<Owners*>(closure);
    owners.ran[i] = std::this_thread::get_id();
    owners.started[i] = true;
    const int awaited = i == 0 ? 2 : i == 2 ? 1 : i == 1 ? 3 : -1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (awaited >= 0 && !owners.started[awaited] && std::chrono::steady_clock::now() < give_up)
        std::this_thread::yield();
    return 0;
}

}  // namespace

TEST_CASE("each thread runs its own contiguous block of a loop first", "[runtime][threads]") {
    kiln::SpinningThreadPool& pool = kiln::SpinningThreadPool::instance();
    pool.set_threads(2);
    for (int repeat = 0; repeat < 20; ++repeat) {
        Owners owners;
        REQUIRE(pool.run(nullptr, recording_iteration, 0, 4, reinterpret_cast<uint8_t*>(&owners)) == 0);
        const std::thread::id caller = std::this_thread::get_id();
        INFO("repeat " << repeat);
        CHECK(owners.ran[0].load() == caller);
        CHECK(owners.ran[1].load() == caller);
        CHECK(owners.ran[2].load() != caller);
        CHECK(owners.ran[3].load() != caller);
    }
}

TEST_CASE("every iteration of a parallel loop runs exactly once, at any pool size", "[runtime][threads]") {
    kiln::SpinningThreadPool& pool = kiln::SpinningThreadPool::instance();
    for (int threads : {1, 2, 3, 2}) {
        pool.set_threads(threads);
        for (int size : {1, 2, 3, 17, 1000}) {
            Counts counts(size + 4);
            for (int repeat = 0; repeat < 200; ++repeat)
                REQUIRE(pool.run(nullptr, count_iteration, 4, size, reinterpret_cast<uint8_t*>(&counts)) == 0);
            INFO(threads << " threads, " << size << " iterations");
            for (int i = 0; i < size + 4; ++i) CHECK(counts.runs[std::size_t(i)].load() == (i < 4 ? 0 : 200));
        }
    }
}

TEST_CASE("a failing iteration's status comes back, and a loop inside an iteration runs serially",
          "[runtime][threads]") {
    kiln::SpinningThreadPool& pool = kiln::SpinningThreadPool::instance();
    pool.set_threads(2);
    const int status = pool.run(nullptr, failing_iteration, 0, 10, nullptr);
    CHECK((status == 103 || status == 107));
    Counts counts(40);
    REQUIRE(pool.run(nullptr, nested_iteration, 0, 8, reinterpret_cast<uint8_t*>(&counts)) == 0);
    for (const std::atomic<int>& runs : counts.runs) CHECK(runs.load() == 1);
}

TEST_CASE("loops after the workers went to sleep run, through halide_do_par_for", "[runtime][threads]") {
    kiln::SpinningThreadPool& pool = kiln::SpinningThreadPool::instance();
    pool.set_threads(2);
    halide_set_custom_do_par_for([](void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
        return kiln::SpinningThreadPool::instance().run(user_context, f, min, size, closure);
    });
    Counts counts(64);
    for (int repeat = 0; repeat < 4; ++repeat) {
        // Past the spin window: the worker sleeps and must be woken by the next loop.
        std::this_thread::sleep_for(kiln::SpinningThreadPool::spin * 3);
        REQUIRE(halide_do_par_for(nullptr, count_iteration, 0, 64, reinterpret_cast<uint8_t*>(&counts)) == 0);
    }
    for (const std::atomic<int>& runs : counts.runs) CHECK(runs.load() == 4);
}
