// SpinningThreadPool: see the header for why kiln runs Halide's parallel loops on its own pool.
#include "spinning_thread_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln {

namespace {
thread_local bool inside_iteration = false;  // a worker, or the caller while it runs iterations

void relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

int run_serially(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
    for (int i = min; i < min + size; ++i)
        if (const int status = f(user_context, i, closure)) return status;
    return 0;
}

int pool_do_par_for(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
    return SpinningThreadPool::instance().run(user_context, f, min, size, closure);
}
}  // namespace

SpinningThreadPool& SpinningThreadPool::instance() {
    static SpinningThreadPool pool;
    return pool;
}

SpinningThreadPool::~SpinningThreadPool() { stop_workers(); }

void SpinningThreadPool::set_threads(int threads) {
    std::lock_guard submitting(submit_);
    threads = std::clamp(threads, 1, max_threads);
    if (int(workers_.size()) == threads - 1) return;
    stop_workers();
    stop_ = false;
    threads_ = threads;
    // The workers wait for loops published after this one: read here, not when they first run,
    // or the first loop, published before a worker's thread started, would pass it by.
    const uint64_t published = sequence_.load(std::memory_order_acquire);
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t, published] { work(t, published); });
}

void SpinningThreadPool::stop_workers() {
    {
        std::lock_guard lock(sleep_mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
}

int SpinningThreadPool::run(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
    if (size <= 0) return 0;
    // Nested in another loop's iteration, or another host thread's loop running: serially here.
    if (size == 1 || inside_iteration || !submit_.try_lock()) return run_serially(user_context, f, min, size, closure);
    std::lock_guard submitting(submit_, std::adopt_lock);
    if (workers_.empty()) return run_serially(user_context, f, min, size, closure);

    // Publish: the sequence is odd while the fields change, then even again with the next
    // generation; the iteration counter is reset to that generation before it is published.
    const uint64_t sequence = sequence_.load(std::memory_order_relaxed);
    sequence_.store(sequence + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    loop_.f.store(f, std::memory_order_relaxed);
    loop_.user_context.store(user_context, std::memory_order_relaxed);
    loop_.min.store(min, std::memory_order_relaxed);
    loop_.size.store(size, std::memory_order_relaxed);
    loop_.closure.store(closure, std::memory_order_relaxed);
    const uint32_t generation = uint32_t((sequence + 2) / 2);
    status_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    for (int t = 0; t < threads_; ++t)
        blocks_[t].next.store(uint64_t(generation) << 32 | uint32_t(block_begin(t, size)), std::memory_order_relaxed);
    sequence_.store(sequence + 2, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard lock(sleep_mutex_);
        wake_.notify_all();
    }

    inside_iteration = true;
    take_iterations(generation, {f, user_context, min, size, closure}, 0);
    inside_iteration = false;
    while (done_.load(std::memory_order_acquire) < size) relax();
    return status_.load(std::memory_order_acquire);
}

void SpinningThreadPool::take_iterations(uint32_t generation, const Loop& loop, int self) {
    for (int k = 0; k < threads_; ++k) {
        const int t = (self + k) % threads_;
        const int end = block_begin(t + 1, loop.size);
        std::atomic<uint64_t>& next = blocks_[t].next;
        for (;;) {
            uint64_t claimed = next.load(std::memory_order_relaxed);
            do {
                if (uint32_t(claimed >> 32) != generation) return;  // the loop is over: a stale reader
                if (int(uint32_t(claimed)) >= end) break;
            } while (!next.compare_exchange_weak(claimed, claimed + 1, std::memory_order_acq_rel));
            if (int(uint32_t(claimed)) >= end) break;  // this block is done: help with the next
            if (const int status = loop.f(loop.user_context, loop.min + int(uint32_t(claimed)), loop.closure)) {
                int none = 0;
                status_.compare_exchange_strong(none, status);
            }
            done_.fetch_add(1, std::memory_order_acq_rel);
        }
    }
}

void SpinningThreadPool::work(int self, uint64_t seen) {
    inside_iteration = true;  // a loop started inside an iteration runs serially on its thread
    for (;;) {
        auto since = std::chrono::steady_clock::now();
        uint64_t sequence;
        for (int polls = 1;; ++polls) {
            sequence = sequence_.load(std::memory_order_acquire);
            if ((sequence != seen && sequence % 2 == 0) || stop_.load(std::memory_order_relaxed)) break;
            relax();
            if (polls % 256 == 0) {
                // Another process may want this core (a test run beside this one): let it in.
                std::this_thread::yield();
                if (std::chrono::steady_clock::now() - since < spin) continue;
                std::unique_lock lock(sleep_mutex_);
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                wake_.wait(lock, [&] {
                    const uint64_t now = sequence_.load(std::memory_order_seq_cst);
                    return (now != seen && now % 2 == 0) || stop_.load();
                });
                sleepers_.fetch_sub(1, std::memory_order_seq_cst);
                since = std::chrono::steady_clock::now();
            }
        }
        if (stop_.load()) return;
        const Loop loop{loop_.f.load(std::memory_order_relaxed), loop_.user_context.load(std::memory_order_relaxed),
                        loop_.min.load(std::memory_order_relaxed), loop_.size.load(std::memory_order_relaxed),
                        loop_.closure.load(std::memory_order_relaxed)};
        std::atomic_thread_fence(std::memory_order_acquire);
        if (sequence_.load(std::memory_order_relaxed) != sequence) continue;  // republished while read: look again
        seen = sequence;
        take_iterations(uint32_t(sequence / 2), loop, self);
    }
}

void use_spinning_thread_pool(int threads) {
    if (const char* pool = std::getenv("KILN_THREAD_POOL"); pool && std::strcmp(pool, "halide") == 0) return;
    SpinningThreadPool::instance().set_threads(threads);
    halide_set_custom_do_par_for(pool_do_par_for);
}

}  // namespace kiln
