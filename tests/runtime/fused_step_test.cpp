// The optimizer's step fused into the backward stage (backward_<optimizer>) against the same step
// as a separate pass (the stand-alone kernel over the gradient arena), for every optimizer with a
// per-element step: from the same parameters and optimizer state, one step of each must agree
// within float rounding. The state is made non-trivial first (a few separate steps), and weight
// decay, clipping by value and a large rate make a wrong scalar or formula show as a difference
// of ~1e-2, against ~1e-7 of rounding. The test network has batch norm, dropout, maxout and layer
// norm, so both paths see every kind of gradient: GEMM epilogues, reductions, masks; a second
// network has a parameter stored at a padded row stride.
#include <catch2/catch.hpp>

#include <kiln/model.hpp>
#include <kiln/optim/optimizer.hpp>
#include <random>

#include "aliased.kiln.h"
#include "padding.hpp"
#include "regularized.kiln.h"

namespace {

struct Fixture {
    const kiln::ModelDescriptor& d;
    kiln::Tensor features, targets;
    std::vector<int32_t> labels;
    kiln::Batch batch;

    explicit Fixture(const kiln::ModelDescriptor& descriptor) : d(descriptor) {
        std::mt19937_64 rng(11);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        features = kiln::Tensor(97, d.input.per_row());
        for (float& v : features.values) v = normal(rng);
        if (d.supervision.integer_labels)
            for (int i = 0; i < features.rows; ++i) labels.push_back(int32_t(rng() % uint64_t(d.supervision.classes)));
        else {
            targets = kiln::Tensor(features.rows, d.supervision.cols);
            for (float& v : targets.values) v = normal(rng);
        }
    }
    // An odd batch: 37 rows from `step`·19 on (wrapping), so the edge tiles are exercised.
    const kiln::Batch& batch_for(int step) {
        batch.features = kiln::Tensor(37, features.cols);
        batch.labels.clear();
        if (!d.supervision.integer_labels) batch.targets = kiln::Tensor(37, targets.cols);
        for (int r = 0; r < 37; ++r) {
            const int from = (step * 19 + r) % features.rows;
            std::copy(features.row(from), features.row(from) + features.cols, batch.features.row(r));
            if (d.supervision.integer_labels) batch.labels.push_back(labels[std::size_t(from)]);
            else std::copy(targets.row(from), targets.row(from) + targets.cols, batch.targets.row(r));
        }
        return batch;
    }
};

// Each parameter's values (a padded parameter's zeros stay zero: the stages read them).
void randomize(kiln::Model& model) {
    std::mt19937_64 rng(5);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    for (std::size_t p = 0; p < model.descriptor().params.size(); ++p)
        for (float& v : model.params()[p]) v = normal(rng);
}

// |a − b| ≤ 1e-6 + 1e-6·|a| for every element.
void check_close(std::span<const float> separate, std::span<const float> fused, const std::string& what) {
    REQUIRE(separate.size() == fused.size());
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < separate.size(); ++i) {
        const double excess = std::abs(double(separate[i]) - fused[i]) - 1e-6 * (1 + std::abs(double(separate[i])));
        if (excess > worst) worst = excess, at = i;
    }
    INFO(what << ": element " << at << " separate " << separate[at] << " fused " << fused[at]);
    CHECK(worst == 0);
}

void check_fused_step(const kiln::ModelDescriptor& d, const kiln::FusedUpdateRow& row) {
    Fixture f(d);
    REQUIRE(f.d.fused_updates.size() == std::size(kiln::fused_update_table));
    const std::string name(row.name);
    INFO(d.name << ", " << name);
    kiln::OptimizerSettings settings{name, 1e-2f};
    settings.weight_decay = 0.01f;
    settings.clip_value = 0.5f;

    kiln::Model separate(f.d);
    randomize(separate);
    auto separate_optimizer = kiln::make_optimizer(settings, separate.params().all().size());
    REQUIRE(separate_optimizer->fusable() == row.kind);
    separate_optimizer->lr = settings.lr;
    for (int s = 0; s < 3; ++s) {  // state that is not zero
        separate.forward_backward(f.batch_for(s), uint32_t(s));
        separate_optimizer->step(separate.params(), separate.gradients());
    }

    kiln::Model fused(f.d);
    std::copy(separate.params().all().begin(), separate.params().all().end(), fused.params().all().begin());
    fused.states() = separate.states();
    auto fused_optimizer = kiln::make_optimizer(settings, fused.params().all().size());
    fused_optimizer->restore(separate_optimizer->state());
    fused_optimizer->lr = settings.lr;
    const std::vector<float> before(fused.params().all().begin(), fused.params().all().end());

    const float separate_loss = separate.forward_backward(f.batch_for(3), 3);
    separate_optimizer->step(separate.params(), separate.gradients());
    const kiln::FusedStep step = fused_optimizer->begin_fused_step();
    const float fused_loss = fused.forward_backward_step(f.batch_for(3), row.kind, step, 3);
    CHECK(fused_loss == separate_loss);
    // Until committed, the step is only written beside the parameters (a diverged loss is refused).
    CHECK(std::equal(before.begin(), before.end(), fused.params().all().begin()));
    fused.commit_fused_step();
    fused_optimizer->commit_fused_step();

    check_close(separate.params().all(), fused.params().all(), "parameters");
    const kiln::OptimizerState a = separate_optimizer->state(), b = fused_optimizer->state();
    CHECK(a.scalars == b.scalars);  // the step count and NAdam's μ product advance alike
    for (const auto& [buffer, values] : a.buffers) check_close(values, b.buffers.at(buffer), buffer);
    for (std::size_t i = 0; i < separate.states().size(); ++i)
        CHECK(separate.states()[i].values == fused.states()[i].values);  // batch norm's running statistics
    kiln::test::require_padding_zero(d, separate.params(), "separate step's parameters");
    kiln::test::require_padding_zero(d, separate.gradients(), "gradients");
    kiln::test::require_padding_zero(d, fused.params(), "fused step's parameters");
}

}  // namespace

TEST_CASE("a fused step equals the separate step, for every optimizer with a per-element step", "[runtime][fused]") {
    check_fused_step(kiln::models::regularized(),
                     GENERATE(from_range(std::begin(kiln::fused_update_table), std::end(kiln::fused_update_table))));
}

// aliased's W [40 × 512] is stored padded (ParamSpec::row_stride): its gradient, next value and
// optimizer state are written at that stride, and the padding stays zero on both paths.
TEST_CASE("a fused step equals the separate step on a padded parameter", "[runtime][fused]") {
    const kiln::ModelDescriptor& d = kiln::models::aliased();
    REQUIRE(std::any_of(d.params.begin(), d.params.end(), [](const kiln::ParamSpec& p) { return p.row_stride() > p.cols; }));
    check_fused_step(d, GENERATE(from_range(std::begin(kiln::fused_update_table), std::end(kiln::fused_update_table))));
}

TEST_CASE("clipping by global norm, LARS and LAMB need the whole gradient: no fused step", "[runtime][fused]") {
    kiln::OptimizerSettings clipped{"adam", 1e-3f};
    clipped.clip_norm = 1;
    CHECK_FALSE(kiln::make_optimizer(clipped, 10)->fusable());
    for (const char* name : {"lars", "lamb"}) {
        CHECK_FALSE(kiln::make_optimizer(kiln::OptimizerSettings{name, 1e-3f}, 10)->fusable());
        CHECK_THROWS(kiln::make_optimizer(kiln::OptimizerSettings{name, 1e-3f}, 10)->begin_fused_step());
    }
}
