// The generated infer / forward / backward stages against the DSL's double-precision reference,
// at batch sizes that hit every tail (1, 3, 130): |kernel − reference| ≤ 1e-5 + 1.3e-6·|reference|.
#include <catch2/catch.hpp>
#include <kiln/error.hpp>
#include <kiln/model.hpp>
#include <random>

#include "binary.kiln.h"
#include "every_op.kiln.h"
#include "models/every_op.hpp"
#include "models/regression.hpp"
#include "regression.kiln.h"

namespace {

using kiln::dsl::reference::Matrix;
namespace hana = boost::hana;

Matrix to_matrix(const float* values, int rows, int cols) {
    Matrix m(rows, cols);
    for (std::size_t i = 0; i < m.values.size(); ++i) m.values[i] = values[i];
    return m;
}

void require_close(const float* kernel, const Matrix& reference, const std::string& what) {
    for (std::size_t i = 0; i < reference.values.size(); ++i) {
        const double r = reference.values[i];
        INFO(what << " element " << i << ": kernel " << kernel[i] << ", reference " << r);
        REQUIRE(std::abs(kernel[i] - r) <= 1e-5 + 1.3e-6 * std::abs(r));
    }
}

template <class Network>
void check_stages(const kiln::ModelDescriptor& descriptor, Network network, int batch, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    kiln::Model model(descriptor);
    kiln::dsl::reference::Context context;
    context.batch = batch;
    for (std::size_t i = 0; i < descriptor.params.size(); ++i) {
        for (float& v : model.params()[i]) v = value(rng);
        const auto& p = descriptor.params[i];
        context.bindings[p.name] = to_matrix(model.params()[i].data(), p.rows, p.cols);
    }
    kiln::Batch data;
    data.features = kiln::Tensor(batch, descriptor.input.cols);
    for (float& v : data.features.values) v = 2 * value(rng);
    context.bindings[descriptor.input.name] = to_matrix(data.features.values.data(), batch, descriptor.input.cols);
    if (descriptor.supervision.integer_labels) {
        std::uniform_int_distribution<int> label(0, descriptor.supervision.classes - 1);
        Matrix labels(batch, 1);
        for (int i = 0; i < batch; ++i) labels.values[i] = data.labels.emplace_back(label(rng));
        context.bindings[descriptor.supervision.name] = labels;
    } else {
        data.targets = kiln::Tensor(batch, descriptor.supervision.cols);
        for (float& v : data.targets.values) v = (value(rng) + 1) / 2;
        context.bindings[descriptor.supervision.name] = to_matrix(data.targets.values.data(), batch, descriptor.supervision.cols);
    }

    kiln::dsl::Evaluator reference(context);
    kiln::Tensor prediction = model.predict(data.features);
    require_close(prediction.values.data(), reference(network.prediction), "prediction");
    const float loss = model.forward_backward(data);
    require_close(&loss, reference(network.loss), "loss");
    auto gradients = kiln::dsl::grad(network.loss);
    hana::for_each(kiln::dsl::parameters(network.loss), [&](auto t) {
        using Op = typename kiln::dsl::node_of<decltype(t)>::op;
        std::size_t index = 0;
        while (descriptor.params[index].name != Op::name) ++index;
        Matrix expected = kiln::dsl::evaluate(gradients[kiln::dsl::name<Op::fixed_name>], context);
        require_close(model.gradients()[index].data(), expected, "gradient of " + std::string(Op::name));
    });
}

}  // namespace

TEST_CASE("every op family: stages match the double reference at odd batch sizes", "[codegen]") {
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) { check_stages(kiln::models::every_op(), every_op::network, batch, 11 + batch); }
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
    CHECK(d.params[2].gradient_formula == "σ(x · hidden.weight + hidden.bias)ᵀ · ((σ(σ(x · hidden.weight + hidden.bias) · out.weight + out.bias) − t) / N)");
}
