// The thread pool behind the generated code's parallel loops (Halide's halide_do_par_for): workers
// that keep polling for the next loop for a while (`spin`) before they sleep.
//
// Why not Halide's own pool: its workers yield a few dozen times and then sleep on a condition
// variable, and waking a sleeping worker costs ~6 µs on the 2-core VMs kiln is developed on (a
// probe: a parallel loop of two ~0.7 µs tasks takes 2.4 µs back to back, 7.9 µs once 20 µs of
// serial work separate the loops). A training step is tens of parallel loops with serial work
// between them — the batch gather, a serial optimizer kernel, small reductions — so most loops
// paid the wake-up. Here a loop costs ~1.9 µs at any gap up to the spin window.
//
// Iterations are handed out as OpenMP's static schedule does: with T threads, thread t first runs
// the t-th contiguous block of [min, min + size), and only then helps with the others' blocks
// (whoever is late, a worker still waking or a core the VM took away, is covered). Consecutive
// loops of the generated code mostly split the same axis (the batch's images or rows), so with
// blocks a core tends to find what it wrote in its own cache; claimed first come, first served,
// which core got which images changed from loop to loop. fashion_cnn's two-thread train step and
// epoch take 0.89–0.93× the time with blocks (bench/README.md).
//
// Which thread runs which iteration never changes a result: a parallel loop's iterations write
// disjoint outputs (Halide's semantics), so the same seed still gives the same bytes.
#pragma once
#include <HalideRuntime.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

class SpinningThreadPool {
public:
    static SpinningThreadPool& instance();
    ~SpinningThreadPool();

    // `threads` in all, the calling thread included (1: every loop runs on the caller).
    void set_threads(int threads);
    // halide_do_par_for's contract: f(user_context, i, closure) for i in [min, min + size); the
    // first non-zero status, or 0. A loop started inside another's iteration runs serially there.
    int run(void* user_context, halide_task_t f, int min, int size, uint8_t* closure);

    // How long an idle worker polls before it sleeps.
    static constexpr std::chrono::microseconds spin{2000};

private:
    struct Loop {
        halide_task_t f = nullptr;
        void* user_context = nullptr;
        int min = 0, size = 0;
        uint8_t* closure = nullptr;
    };
    // The published loop's fields: relaxed atomics, read under the sequence lock below.
    struct PublishedLoop {
        std::atomic<halide_task_t> f{nullptr};
        std::atomic<void*> user_context{nullptr};
        std::atomic<int> min{0}, size{0};
        std::atomic<uint8_t*> closure{nullptr};
    };
    // One thread's block of the current loop: `next` holds (generation << 32 | next iteration), so
    // an iteration is claimed only for the generation it belongs to; a line of its own, so that
    // claims in different blocks do not contend.
    struct alignas(64) Block {
        std::atomic<uint64_t> next{0};
    };
    static constexpr int max_threads = 256;

    SpinningThreadPool() = default;
    // Worker `self` runs the loops published after sequence `seen`.
    void work(int self, uint64_t seen);
    // Thread `self` claims and runs iterations of loop `generation`, its own block first, until
    // none is left in any block; a stale generation claims nothing.
    void take_iterations(uint32_t generation, const Loop& loop, int self);
    // Block t of a loop of `size` iterations: [begin, end) relative to the loop's min.
    int block_begin(int t, int size) const { return int(int64_t(size) * t / threads_); }
    void stop_workers();

    std::vector<std::thread> workers_;
    std::mutex submit_, sleep_mutex_;
    std::condition_variable wake_;
    // The published loop, under a sequence lock: odd while the caller writes it; its generation is
    // sequence / 2.
    std::atomic<uint64_t> sequence_{0};
    int threads_ = 1;  // the caller and the workers; changed only while no loop runs
    std::unique_ptr<Block[]> blocks_ = std::make_unique<Block[]>(max_threads);
    std::atomic<int> done_{0}, status_{0}, sleepers_{0};
    std::atomic<bool> stop_{false};
    PublishedLoop loop_;
};

// Routes the generated code's parallel loops to SpinningThreadPool with `threads` threads
// (KILN_THREAD_POOL=halide keeps Halide's own pool, for comparison).
void use_spinning_thread_pool(int threads);

}  // namespace kiln
