// Shared by the stages tests: a generated model's stages against the DSL's double-precision
// reference at one batch size (prediction, both losses, running statistics, every gradient, with
// and without dropout): |kernel − reference| ≤ scale·(1e-5 + 1.3e-6·|reference|).
#pragma once
#include <catch2/catch.hpp>
#include <kiln/dsl.hpp>
#include <kiln/error.hpp>
#include <kiln/model.hpp>
#include <algorithm>
#include <random>

#include "../runtime/padding.hpp"

namespace kiln_test {

using kiln::dsl::reference::Matrix;
namespace hana = boost::hana;

inline Matrix to_matrix(const float* values, kiln::TensorShape shape) {
    Matrix m(kiln::dsl::Shape{shape.rows, shape.cols, shape.height, shape.width}, 0.0);
    for (std::size_t i = 0; i < m.values.size(); ++i) m.values[i] = values[i];
    return m;
}
inline Matrix to_matrix(const float* values, int rows, int cols) { return to_matrix(values, kiln::TensorShape{rows, cols}); }

// `scale` widens the bound for networks whose float sums are long (hundreds of terms).
inline void require_close(const float* kernel, const Matrix& reference, const std::string& what, double scale = 1) {
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
        context.bindings[p.name] = to_matrix(model.params()[i].dense().data(), p.shape());
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
        const std::vector<float> gradient = model.gradients()[index].dense();
        require_close(gradient.data(), expected, "gradient of " + std::string(Op::name), scale);
    });
    kiln::test::require_padding_zero(descriptor, model.params(), "parameters");
    kiln::test::require_padding_zero(descriptor, model.gradients(), "gradients");
}

}  // namespace kiln_test
