// A training step in steady state allocates nothing on the heap: the batch gather reuses its
// storage, stage calls reuse their argument lists, the optimizers keep their state, and Halide's
// own allocations go to the caching allocator. Counted by replacing the global operator new in
// this test binary.
#include <catch2/catch.hpp>
#include <atomic>
#include <cstdlib>
#include <kiln/data/batches.hpp>
#include <kiln/optim/optimizer.hpp>
#include <new>
#include <numeric>
#include <random>

#include "regularized.kiln.h"

namespace {
std::atomic<long> allocations{0};

void* counted(std::size_t size, std::size_t alignment) {
    ++allocations;
    const std::size_t rounded = (std::max<std::size_t>(size, 1) + alignment - 1) / alignment * alignment;
    if (void* p = alignment > alignof(std::max_align_t) ? std::aligned_alloc(alignment, rounded) : std::malloc(rounded))
        return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted(size, alignof(std::max_align_t)); }
void* operator new[](std::size_t size) { return counted(size, alignof(std::max_align_t)); }
void* operator new(std::size_t size, std::align_val_t alignment) { return counted(size, std::size_t(alignment)); }
void* operator new[](std::size_t size, std::align_val_t alignment) { return counted(size, std::size_t(alignment)); }
// The nothrow forms too: left to the library, their memory would be freed by the replaced
// deletes below (a mismatch AddressSanitizer reports), and they would go uncounted.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted(size, alignof(std::max_align_t));
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    try {
        return counted(size, std::size_t(alignment));
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t& tag) noexcept {
    return operator new(size, alignment, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {
// The regularized test network with random parameters and 300 random samples, and the heap
// allocations of steps 10–19 of `step` (0–9 warm up: storage sized, kernel choices made).
struct WarmSteps {
    const kiln::ModelDescriptor& d = kiln::models::regularized();
    kiln::Model model{d};
    kiln::Dataset data;
    std::vector<int> order;
    kiln::Batch batch;

    explicit WarmSteps(uint64_t seed) {
        std::mt19937_64 rng(seed);
        std::normal_distribution<float> normal(0.0f, 0.5f);
        for (float& v : model.params().all()) v = normal(rng);
        data.features = kiln::Tensor(300, d.input.per_row());
        for (float& v : data.features.values) v = normal(rng);
        for (int i = 0; i < data.size(); ++i) data.labels.push_back(float(rng() % uint64_t(d.supervision.classes)));
        order.resize(std::size_t(data.size()));
        std::iota(order.begin(), order.end(), 0);
    }
    const kiln::Batch& batch_for(int s) {
        std::span<const int> indices(order.data() + (s % 4) * 64, 64);
        kiln::gather_batch(data, indices, d.supervision, batch);
        return batch;
    }
    template <class Step> long allocations_in_warm_steps(Step step) {
        for (int s = 0; s < 10; ++s) step(s);
        const long before = allocations.load();
        for (int s = 10; s < 20; ++s) step(s);
        return allocations.load() - before;  // read before Catch's own messages allocate
    }
};
}  // namespace

TEST_CASE("a training step allocates nothing once warm: gather, forward+backward, optimizer", "[runtime][allocation]") {
    WarmSteps run(3);
    // Global-norm clipping takes the optimizers' extra pass; Adam and momentum keep state.
    const std::string name = GENERATE(as<std::string>{}, "adam", "momentum", "sgd");
    kiln::OptimizerSettings settings{name, 1e-3f};
    settings.clip_norm = 1.0f;
    auto optimizer = kiln::make_optimizer(settings, run.model.params().all().size());
    const long during_steps = run.allocations_in_warm_steps([&](int s) {
        run.model.forward_backward(run.batch_for(s), uint32_t(s));
        optimizer->step(run.model.params(), run.model.gradients());
    });
    INFO(name);
    CHECK(during_steps == 0);
}

TEST_CASE("a fused training step allocates nothing once warm", "[runtime][allocation]") {
    WarmSteps run(4);
    const std::string name = GENERATE(as<std::string>{}, "adam", "adadelta", "sgd");
    auto optimizer = kiln::make_optimizer(kiln::OptimizerSettings{name, 1e-3f}, run.model.params().all().size());
    const kiln::OptimizerKind kind = optimizer->fusable().value();
    const long during_steps = run.allocations_in_warm_steps([&](int s) {
        const kiln::FusedStep arguments = optimizer->begin_fused_step();
        run.model.forward_backward_step(run.batch_for(s), kind, arguments, uint32_t(s));
        run.model.commit_fused_step();
        optimizer->commit_fused_step();
    });
    INFO(name);
    CHECK(during_steps == 0);
}
