// The generated infer / evaluate / forward / backward stages against the DSL's double-precision
// reference, at batch sizes that hit every tail (1, 3, 130): |kernel − reference| ≤ 1e-5 +
// 1.3e-6·|reference|. Inference stages read running statistics; training stages draw dropout
// masks from the step's seed and output the batch statistics the runtime folds into the state.
#include <catch2/catch.hpp>
#include <kiln/error.hpp>
#include <kiln/model.hpp>
#include <random>

#include "aliased.kiln.h"
#include "binary.kiln.h"
#include "conv.kiln.h"
#include "every_op.kiln.h"
#include "image.kiln.h"
#include "models/conv.hpp"
#include "models/every_op.hpp"
#include "models/image.hpp"
#include "models/regression.hpp"
#include "models/regularized.hpp"
#include "regression.kiln.h"
#include "regularized.kiln.h"
#include "regularized_varied.kiln.h"
#ifdef KILN_TEST_AUTOSCHEDULED
#include "regularized_autoscheduled.kiln.h"
#endif

namespace {

using kiln::dsl::reference::Matrix;
namespace hana = boost::hana;

Matrix to_matrix(const float* values, kiln::TensorShape shape) {
    Matrix m(kiln::dsl::Shape{shape.rows, shape.cols, shape.height, shape.width}, 0.0);
    for (std::size_t i = 0; i < m.values.size(); ++i) m.values[i] = values[i];
    return m;
}
Matrix to_matrix(const float* values, int rows, int cols) { return to_matrix(values, kiln::TensorShape{rows, cols}); }

// `scale` widens the bound for networks whose float sums are long (hundreds of terms).
void require_close(const float* kernel, const Matrix& reference, const std::string& what, double scale = 1) {
    for (std::size_t i = 0; i < reference.values.size(); ++i) {
        const double r = reference.values[i];
        INFO(what << " element " << i << ": kernel " << kernel[i] << ", reference " << r);
        REQUIRE(std::abs(kernel[i] - r) <= scale * (1e-5 + 1.3e-6 * std::abs(r)));
    }
}

template <class Network>
void check_stages(const kiln::ModelDescriptor& descriptor, Network network, int batch, uint64_t seed,
                  double scale = 1) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    kiln::Model model(descriptor);
    kiln::dsl::reference::Context context;
    context.batch = batch;
    for (std::size_t i = 0; i < descriptor.params.size(); ++i) {
        for (float& v : model.params()[i]) v = value(rng);
        const auto& p = descriptor.params[i];
        context.bindings[p.name] = to_matrix(model.params()[i].data(), p.shape());
    }
    kiln::Batch data;
    data.features = kiln::Tensor(batch, descriptor.input.per_row());
    for (float& v : data.features.values) v = 2 * value(rng);
    context.bindings[descriptor.input.name] =
        to_matrix(data.features.values.data(), descriptor.input.shape().with_rows(batch));
    if (descriptor.supervision.integer_labels) {
        std::uniform_int_distribution<int> label(0, descriptor.supervision.classes - 1);
        Matrix labels(batch, 1);
        for (int i = 0; i < batch; ++i) labels.values[i] = data.labels.emplace_back(label(rng));
        context.bindings[descriptor.supervision.name] = labels;
    } else {
        data.targets = kiln::Tensor(batch, descriptor.supervision.cols);
        for (float& v : data.targets.values) v = (value(rng) + 1) / 2;
        context.bindings[descriptor.supervision.name] =
            to_matrix(data.targets.values.data(), batch, descriptor.supervision.cols);
    }

    for (std::size_t i = 0; i < descriptor.states.size(); ++i) {  // running statistics: positive, like variances
        for (float& v : model.states()[i].values) v = 0.5f + std::abs(value(rng));
        const auto& s = descriptor.states[i];
        context.bindings[s.name] = to_matrix(model.states()[i].values.data(), s.shape());
    }

    kiln::dsl::reference::Context inference = context;
    inference.training = false;
    kiln::dsl::Evaluator at_inference(inference);
    kiln::Tensor prediction = model.predict(data.features);
    require_close(prediction.values.data(), at_inference(network.prediction), "prediction", scale);
    const float evaluation_loss = model.loss(data);
    require_close(&evaluation_loss, at_inference(network.loss), "evaluation loss", scale);

    context.seed = uint32_t(seed * 7919);
    kiln::dsl::Evaluator reference(context);
    const std::vector<kiln::Tensor> before = model.states();
    const float loss = model.forward_backward(data, context.seed);
    require_close(&loss, reference(network.loss), "training loss", scale);
    hana::for_each(kiln::dsl::topological_order(network.loss), [&](auto t) {
        using Node = kiln::dsl::node_of<decltype(t)>;
        if constexpr (kiln::dsl::is_running<Node>) {
            std::size_t index = 0;
            while (descriptor.states[index].name != Node::op::name) ++index;
            const auto& spec = descriptor.states[index];
            const double correction = spec.unbiased && batch > 1 ? double(batch) / (batch - 1) : 1.0;
            Matrix expected = reference(hana::front(kiln::dsl::children(Node{})));
            for (std::size_t k = 0; k < expected.values.size(); ++k)
                expected.values[k] =
                    (1 - spec.momentum) * before[index].values[k] + spec.momentum * correction * expected.values[k];
            require_close(model.states()[index].values.data(), expected, "running statistic " + spec.name, scale);
        }
    });

    // Training with dropout switched off (babysitting's overfit mode): masks of ones.
    // (On a copy of the context: the gradients below are compared with the dropout run's.)
    kiln::dsl::reference::Context undropped_context = context;
    undropped_context.dropout = false;
    kiln::dsl::Evaluator without_dropout(undropped_context);
    model.set_dropout(false);
    const float undropped = model.training_loss(data, context.seed);
    require_close(&undropped, without_dropout(network.loss), "training loss without dropout", scale);
    model.set_dropout(true);
    auto gradients = kiln::dsl::grad(network.loss);
    hana::for_each(kiln::dsl::parameters(network.loss), [&](auto t) {
        using Op = typename kiln::dsl::node_of<decltype(t)>::op;
        std::size_t index = 0;
        while (descriptor.params[index].name != Op::name) ++index;
        Matrix expected = kiln::dsl::evaluate(gradients[kiln::dsl::name<Op::fixed_name>], context);
        require_close(model.gradients()[index].data(), expected, "gradient of " + std::string(Op::name), scale);
    });
}

}  // namespace

TEST_CASE("every op family: stages match the double reference at odd batch sizes", "[codegen]") {
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::every_op(), every_op::network, batch, 11 + batch);
        }
    }
}

TEST_CASE("rank-4 values (images): stages match the double reference at odd batch sizes", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::image();
    CHECK(d.input.shape().text() == "[N×2×5×4]");
    for (const kiln::ParamSpec& p : d.params)  // rank-4 parameters keep their rank
        if (p.name == "pixel" || p.name == "mixer") CHECK(p.shape().text() == (p.name == "pixel" ? "[1×1×5×4]" : "[1×2×5×4]"));
    for (const kiln::StateSpec& s : d.states) CHECK(s.shape().text() == "[1×2]");  // per-channel running statistics
    REQUIRE(d.activation_layers.size() == 1);
    CHECK(d.activation_layers[0].shape().text() == "[N×2×5×4]");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) { check_stages(d, image::network, batch, 71 + batch); }
    }
}

TEST_CASE("convolutions (padding, stride, dilation, bias, per-channel batch norm): stages match the double "
          "reference at odd batch sizes",
          "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::conv();
    for (const kiln::ParamSpec& p : d.params)  // filters keep PyTorch's [out × in × kh × kw]
        if (p.name == "c2.weight") CHECK(p.shape().text() == "[3×4×3×3]");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) { check_stages(d, conv::network, batch, 81 + batch, 4); }
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
    for (int batch : {1, 3, 130}) {
        // Parameters are U(−1, 1), not fan-in scaled: the 512-term sums reach ~100 before they
        // cancel, and float rounds them ~1e-5 off the double reference.
        DYNAMIC_SECTION("batch " << batch) {
            check_stages(kiln::models::aliased(), aliased::network, batch, 41 + batch, 8);
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
    CHECK(d.stage(kiln::StageKind::infer).gemm_flops_per_sample == 2 * (33 * 40 + 40 * 1));
    CHECK(d.stage(kiln::StageKind::infer).gemm_flops_fixed == 0);
    CHECK(d.stage(kiln::StageKind::forward).gemm_flops_per_sample ==
          d.stage(kiln::StageKind::infer).gemm_flops_per_sample);
    CHECK(d.stage(kiln::StageKind::backward).gemm_flops_per_sample > 0);  // dW = xᵀ·g: the batch is the inner dimension
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
