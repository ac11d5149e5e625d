// Generates the optimizers' update kernels, once and model-independent: each is one pass over a
// flat parameter arena, updating parameters and optimizer state in place (element i reads and
// writes only element i, so the same buffer is passed as input and output).
#include <Halide.h>

#include <iostream>

using namespace Halide;

namespace {
constexpr int vector_width = 16;
constexpr int block = 1 << 14;  // elements per parallel task

void schedule_update(Func f, Var i) {
    Var outer("outer"), inner("inner");
    f.split(i, outer, inner, block, TailStrategy::GuardWithIf)
        .vectorize(inner, vector_width, TailStrategy::GuardWithIf)
        .parallel(outer);
}

void declare_flat(ImageParam& buffer) { buffer.dim(0).set_min(0).set_stride(1); }
// Tuple outputs share the first buffer's min and extent; only their strides can be stated.
void constrain_like(const std::vector<OutputImageParam>& outputs, const ImageParam& like) {
    outputs[0].dim(0).set_min(0).set_extent(like.dim(0).extent());
    for (OutputImageParam out : outputs) out.dim(0).set_stride(1);
}

// p ← p − lr·g
void sgd(const std::string& directory, const Target& target) {
    ImageParam param(Float(32), 1, "param"), grad(Float(32), 1, "grad");
    Param<float> lr("lr");
    declare_flat(param);
    declare_flat(grad);
    grad.dim(0).set_extent(param.dim(0).extent());
    Var i("i");
    Func update("kiln_sgd_update");
    update(i) = param(i) - lr * grad(i);
    constrain_like({update.output_buffer()}, param);
    schedule_update(update, i);
    update.compile_to_static_library(directory + "/kiln_sgd_update", {param, grad, lr}, "kiln_sgd_update", target);
}

// v ← μ·v + g;  p ← p − lr·v   (PyTorch's SGD momentum, dampening 0)
void momentum(const std::string& directory, const Target& target) {
    ImageParam param(Float(32), 1, "param"), velocity(Float(32), 1, "velocity"), grad(Float(32), 1, "grad");
    Param<float> lr("lr"), mu("momentum");
    for (ImageParam* b : {&param, &velocity, &grad}) declare_flat(*b);
    velocity.dim(0).set_extent(param.dim(0).extent());
    grad.dim(0).set_extent(param.dim(0).extent());
    Var i("i");
    Func update("kiln_momentum_update");
    Expr v = mu * velocity(i) + grad(i);
    update(i) = Tuple(param(i) - lr * v, v);
    constrain_like(update.output_buffers(), param);
    schedule_update(update, i);
    update.compile_to_static_library(directory + "/kiln_momentum_update", {param, velocity, grad, lr, mu}, "kiln_momentum_update",
                                     target);
}

// m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr·(m/c1) / (√(v/c2) + ε)
// with the bias corrections c1 = 1−β1ᵗ, c2 = 1−β2ᵗ computed on the host (they change per step).
void adam(const std::string& directory, const Target& target) {
    ImageParam param(Float(32), 1, "param"), m(Float(32), 1, "m"), v(Float(32), 1, "v"), grad(Float(32), 1, "grad");
    Param<float> lr("lr"), beta1("beta1"), beta2("beta2"), epsilon("epsilon"), c1("bias_correction1"), c2("bias_correction2");
    for (ImageParam* b : {&param, &m, &v, &grad}) declare_flat(*b);
    for (ImageParam* b : {&m, &v, &grad}) b->dim(0).set_extent(param.dim(0).extent());
    Var i("i");
    Func update("kiln_adam_update");
    Expr g = grad(i);
    Expr m_next = beta1 * m(i) + (1.0f - beta1) * g;
    Expr v_next = beta2 * v(i) + (1.0f - beta2) * g * g;
    update(i) = Tuple(param(i) - lr * (m_next / c1) / (sqrt(v_next / c2) + epsilon), m_next, v_next);
    constrain_like(update.output_buffers(), param);
    schedule_update(update, i);
    update.compile_to_static_library(directory + "/kiln_adam_update", {param, m, v, grad, lr, beta1, beta2, epsilon, c1, c2},
                                     "kiln_adam_update", target);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: kiln_optimizer_kernels OUTPUT_DIRECTORY TARGET\n";
        return 2;
    }
    Target target = Target(argv[2]).with_feature(Target::NoRuntime);
    sgd(argv[1], target);
    momentum(argv[1], target);
    adam(argv[1], target);
    return 0;
}
