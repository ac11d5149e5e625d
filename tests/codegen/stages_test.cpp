// The generated infer / evaluate / forward / backward stages against the DSL's double-precision
// reference, at batch sizes that hit every tail (1, 3, 130): |kernel − reference| ≤ 1e-5 +
// 1.3e-6·|reference|. Inference stages read running statistics; training stages draw dropout
// masks from the step's seed and output the batch statistics the runtime folds into the state.
#include "check_stages.hpp"

#include "aliased.kiln.h"
#include "aliased_wide_tiles.kiln.h"
#include "binary.kiln.h"
#include "every_op.kiln.h"
#include "models/every_op.hpp"
#include "models/regression.hpp"
#include "models/regularized.hpp"
#include "regression.kiln.h"
#include "regularized.kiln.h"
#include "regularized_varied.kiln.h"
#ifdef KILN_TEST_AUTOSCHEDULED
#include "regularized_autoscheduled.kiln.h"
#endif

using namespace kiln_test;
using kiln::dsl::reference::Matrix;
namespace hana = boost::hana;

TEST_CASE("every op family: stages match the double reference at odd batch sizes", "[codegen]") {
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::every_op(), every_op::network, batch, 11 + batch);
        }
    }
}

TEST_CASE("mse and bce_with_logits: stages match the double reference", "[codegen]") {
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::regression(), regression::network, batch, 21 + batch);
            check_stages(kiln::models::binary(), binary::network, batch, 31 + batch);
        }
    }
}

TEST_CASE("GEMMs whose right operands get padded row strides match the double reference", "[codegen]") {
    // W [40 × 512] is stored padded (560 floats a row): the stages read its zeros in place.
    const std::vector<kiln::ParamSpec>& params = kiln::models::aliased().params;
    REQUIRE(std::any_of(params.begin(), params.end(), [](const kiln::ParamSpec& p) { return p.row_stride() == 560; }));
    for (int batch : {1, 3, 130}) {
        // Parameters are U(−1, 1), not fan-in scaled: the 512-term sums reach ~100 before they
        // cancel, and float rounds them ~1e-5 off the double reference.
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::aliased(), aliased::network, batch, 41 + batch, 8);
        }
    }
}

TEST_CASE("GEMM tiles that reach into a padded parameter's zeros match the double reference", "[codegen]") {
    // 48-wide tiles over W's 512 columns: the last tile reads columns 512-527, the padding.
    REQUIRE(kiln::models::aliased_wide_tiles().scheduler == "tuned");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::aliased_wide_tiles(), aliased::network, batch, 51 + batch, 8);
        }
    }
}

TEST_CASE("batch norm, dropout, maxout, layer norm: stages match the reference in both modes", "[codegen]") {
    REQUIRE(kiln::models::regularized().states.size() == 2);
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::regularized(), regularized::network, batch, 41 + batch);
        }
    }
}

TEST_CASE("a schedule plan with every knob off its default computes the same stages", "[codegen]") {
    // schedules/regularized_varied.json: odd GEMM tiles (48×6, 16×3), unfused epilogues, 3- and
    // 5-row tasks, 4- and 8-wide vectors. "tuned" proves the generator applied it (a stale plan
    // would be ignored with a warning).
    REQUIRE(kiln::models::regularized_varied().scheduler == "tuned");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::regularized_varied(), regularized::network, batch, 61 + batch);
        }
    }
}

#ifdef KILN_TEST_AUTOSCHEDULED
TEST_CASE("a model scheduled by Halide's Mullapudi2016 autoscheduler computes the same stages", "[codegen]") {
    REQUIRE(kiln::models::regularized_autoscheduled().scheduler == "Mullapudi2016");
    // Autoschedulers split with ShiftInwards tails, so batches smaller than their tiles are
    // refused (as a clear error, below); kiln's own schedules take any batch.
    for (int batch : {130, 257}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::regularized_autoscheduled(), regularized::network, batch, 51 + batch);
        }
    }
    kiln::Model model(kiln::models::regularized_autoscheduled());
    REQUIRE_THROWS_WITH(model.predict(kiln::Tensor(1, 6)),
                        Catch::Contains("infer stage") && Catch::Contains("before the min"));
}
#endif

TEST_CASE("the descriptor counts each stage's GEMM FLOPs for bench", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::binary();  // x [N×33] · hidden [33×40], h [N×40] · out [40×1]
    CHECK(d.stage(kiln::StageKind::infer).flops_per_sample == 2 * (33 * 40 + 40 * 1));
    CHECK(d.stage(kiln::StageKind::infer).flops_fixed == 0);
    CHECK(d.stage(kiln::StageKind::forward).flops_per_sample ==
          d.stage(kiln::StageKind::infer).flops_per_sample);
    CHECK(d.stage(kiln::StageKind::backward).flops_per_sample > 0);  // dW = xᵀ·g: the batch is the inner dimension
}

TEST_CASE("every stage takes its scalars, then the buffers it reads, then those it writes", "[codegen]") {
    using kiln::BufferDirection;
    const kiln::ModelDescriptor& d = kiln::models::regularized();  // every role: params, states, saved, gradients, …
    auto direction = [&](const kiln::StageArgumentSpec& a, kiln::StageKind stage) {
        const BufferDirection listed = kiln::buffer_role_table[int(a.role)].direction;
        if (listed != BufferDirection::between_stages) return listed;
        return stage == kiln::StageKind::forward ? BufferDirection::output : BufferDirection::input;  // the saved set
    };
    for (const kiln::StageRow& row : kiln::stage_table) {
        INFO(row.name);
        const auto& arguments = d.stage(row.kind).arguments;
        REQUIRE(arguments.size() >= 4);
        CHECK(direction(arguments.front(), row.kind) == BufferDirection::scalar);
        for (std::size_t i = 1; i < arguments.size(); ++i)
            CHECK(int(direction(arguments[i - 1], row.kind)) <= int(direction(arguments[i], row.kind)));
        CHECK(direction(arguments.back(), row.kind) == BufferDirection::output);
    }
}

TEST_CASE("errors in generated code come back as messages, not aborts", "[codegen]") {
    kiln::Model model(kiln::models::every_op());
    kiln::Tensor wrong(4, 6);  // the input has 5 features
    REQUIRE_THROWS_WITH(model.predict(wrong), Catch::Contains("infer stage") && Catch::Contains("x"));
}

TEST_CASE("the descriptor lists the saved set and derived formulas", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::binary();
    REQUIRE(d.saved.size() == 2);
    CHECK(d.saved[0].formula == "σ(x · hidden.weight + hidden.bias)");
    CHECK(d.params[0].name == "hidden.weight");
    CHECK(d.params[2].gradient_formula ==
          "σ(x · hidden.weight + hidden.bias)ᵀ · ((σ(σ(x · hidden.weight + hidden.bias) · out.weight + out.bias) − t) "
          "/ N)");
}
