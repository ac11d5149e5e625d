// The thread pool behind the generated code's parallel loops (runtime/src/spinning_thread_pool.*):
// every iteration runs exactly once whatever the pool's size, a failing iteration's status comes
// back, a loop inside an iteration runs (serially) instead of deadlocking, and loops after the
// workers went to sleep still run. Generated code reaches it through halide_do_par_for.
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

}  // namespace

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
