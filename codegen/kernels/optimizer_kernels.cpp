// Generates the optimizers' update kernels, once and model-independent: each is one pass over a
// flat parameter buffer (the whole arena, or one parameter's segment of it for the layer-wise
// methods), updating parameters and optimizer state in place: element i reads and writes only
// element i, so the same memory is passed as input and output.
//
// Every kernel first forms the effective gradient g = clamp(scale·grad, −clip, clip): `scale`
// carries clipping by global norm (computed on the host, one pass), `clip` clipping by value. The
// SGD family and Adam add the L2 penalty's gradient wd·p to it (coupled weight decay); AdamW,
// LARS and LAMB apply decay as their papers do.
//
// Which kernels exist is the contract's table (kiln/contract/optimizers.def): each Kernel names its
// row, and main() fails when a row has no kernel here.
#include <Halide.h>

#include <array>
#include <iostream>
#include <set>

#include <kiln/contract/optimizer_formulas.hpp>
#include <kiln/contract/optimizers.hpp>
#include <kiln/contract/table.hpp>

#include <kiln/codegen/expr_math.hpp>
#include <kiln/codegen/kernel_targets.hpp>

using namespace Halide;

namespace {
constexpr int vector_width = 16;
constexpr int block = 1 << 14;  // elements per parallel task

std::set<std::string> generated;  // kernel names, checked against the contract's table

class Kernel {
public:
    Kernel(kiln::OptimizerKernel kernel, const std::vector<std::string>& state_names)
        : name_("kiln_" + std::string(kiln::optimizer_kernel_table[int(kernel)].name)) {
        generated.insert(std::string(kiln::optimizer_kernel_table[int(kernel)].name));
        param.dim(0).set_min(0).set_stride(1);
        grad.dim(0).set_min(0).set_stride(1).set_extent(param.dim(0).extent());
        for (const std::string& s : state_names) {
            ImageParam buffer(Float(32), 1, s);
            buffer.dim(0).set_min(0).set_stride(1).set_extent(param.dim(0).extent());
            state.push_back(buffer);
        }
    }

    Var i{"i"};
    ImageParam param{Float(32), 1, "param"}, grad{Float(32), 1, "grad"};
    std::vector<ImageParam> state;
    Param<float> lr{"lr"}, weight_decay{"weight_decay"}, grad_scale{"grad_scale"}, clip{"clip"};

    Expr clipped_gradient() { return clamp(grad_scale * grad(i), -clip, clip); }

    // Arguments: param, state…, grad, lr, weight_decay, grad_scale, clip, extra…; outputs: the tuple.
    void compile(const std::vector<Expr>& outputs, const std::vector<Argument>& extra, const std::string& directory,
                 const std::vector<Target>& target) {
        Func update(name_);
        update(i) = outputs.size() == 1 ? Tuple(outputs[0]) : Tuple(outputs);
        update.output_buffers()[0].dim(0).set_min(0).set_extent(param.dim(0).extent());
        for (OutputImageParam out : update.output_buffers()) out.dim(0).set_stride(1);
        // Vectors first, then blocks of vectors: the last block loops over the vectors it has. (Split
        // into blocks of elements first, the last block ran all block/16 iterations with masked
        // loads and stores past the end — as long as a whole block, and more than the whole update
        // on fashion_mlp's 235 k parameters.)
        Var vector("vector"), lane("lane"), outer("outer"), inner("inner");
        update.split(i, vector, lane, vector_width, TailStrategy::GuardWithIf)
            .vectorize(lane)
            .split(vector, outer, inner, block / vector_width, TailStrategy::GuardWithIf);
        std::vector<Argument> arguments{param};
        for (const ImageParam& s : state) arguments.push_back(s);
        arguments.insert(arguments.end(), {grad, lr, weight_decay, grad_scale, clip});
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        // <name>_serial: the same loops on the calling thread (small arenas: no thread wake-ups).
        kiln::codegen::compile_library(update, directory + "/" + name_ + "_serial", name_ + "_serial", arguments, target);
        update.parallel(outer);
        kiln::codegen::compile_library(update, directory + "/" + name_, name_, arguments, target);
    }

private:
    std::string name_;
};

// The kernel a KILN_OPTIMIZER row names first (a fused row's only kernel).
kiln::OptimizerKernel first_kernel(const kiln::OptimizerRow& row) {
    const std::string_view name = kiln::contract::words(row.kernels).at(0);
    for (const kiln::OptimizerKernelRow& kernel : kiln::optimizer_kernel_table)
        if (kernel.name == name) return kernel.kernel;
    throw std::logic_error("optimizers.def: optimizer " + std::string(row.name) + " names no known kernel");
}

void generate_all(const std::string& dir, const std::vector<Target>& target) {
    // The optimizers whose step reads only its own element: the formula the backward stages fuse
    // (contract/optimizer_formulas.hpp), here over the flat arena. Arguments in the row's order:
    // state buffers, then its own scalars after the common four.
    for (const kiln::FusedUpdateRow& fused : kiln::fused_update_table) {
        const kiln::OptimizerRow& row = kiln::optimizer_row(fused.kind);
        std::vector<std::string> state_names;
        for (std::string_view name : kiln::contract::words(row.state)) state_names.emplace_back(name);
        Kernel k(first_kernel(row), state_names);
        std::vector<Expr> scalars{k.lr, k.weight_decay, k.grad_scale, k.clip};
        std::vector<Argument> own;
        for (std::string_view name : kiln::contract::words(fused.scalars)) {
            Param<float> scalar{std::string(name)};
            scalars.push_back(scalar);
            own.push_back(scalar);
        }
        std::array<Expr, 2> state;
        for (std::size_t s = 0; s < k.state.size(); ++s) state[s] = k.state[s](k.i);
        const kiln::formula::ElementStep<Expr> step =
            kiln::formula::element_step<Expr>(fused.kind, k.param(k.i), k.grad(k.i), state, scalars.data());
        std::vector<Expr> outputs{step.param};
        for (std::size_t s = 0; s < k.state.size(); ++s) outputs.push_back(step.state[s]);
        k.compile(outputs, own, dir, target);
    }
    {  // LARS, per parameter tensor with its local rate (lr × trust ratio, from the host):
        // v ← μv + local_lr·(g + wd·p); p ← p − v
        Kernel k(kiln::OptimizerKernel::lars_update, {"velocity"});
        Param<float> mu("momentum"), local_lr("local_lr");
        Expr v = mu * k.state[0](k.i) + local_lr * (k.clipped_gradient() + k.weight_decay * k.param(k.i));
        k.compile({k.param(k.i) - v, v}, {mu, local_lr}, dir, target);
    }
    {  // LAMB, first pass: Adam moments, and the step direction r = m̂/(√v̂ + ε) + wd·p (into a
        // scratch buffer, the third output); the host then scales r by ‖p‖/‖r‖ per tensor.
        Kernel k(kiln::OptimizerKernel::lamb_moments, {"m", "v"});
        Param<float> beta1("beta1"), beta2("beta2"), eps("epsilon"), c1("bias_correction1"), c2("bias_correction2");
        Expr g = k.clipped_gradient();
        Expr m = beta1 * k.state[0](k.i) + (1.0f - beta1) * g;
        Expr v = beta2 * k.state[1](k.i) + (1.0f - beta2) * g * g;
        Expr r = (m / c1) / (sqrt(v / c2) + eps) + k.weight_decay * k.param(k.i);
        k.compile({m, v, r}, {beta1, beta2, eps, c1, c2}, dir, target);
    }
    {  // Second pass for LAMB: p ← p − lr·direction (lr already times the trust ratio)
        Kernel k(kiln::OptimizerKernel::scaled_step, {"direction"});
        k.compile({k.param(k.i) - k.lr * k.state[0](k.i)}, {}, dir, target);
    }
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: kiln_optimizer_kernels OUTPUT_DIRECTORY TARGET[,TARGET…]\n";
        return 2;
    }
    generate_all(argv[1], kiln::codegen::no_runtime_targets(argv[2]));
    for (const kiln::OptimizerKernelRow& row : kiln::optimizer_kernel_table)
        if (!generated.erase(std::string(row.name))) {
            std::cerr << "kiln_optimizer_kernels: optimizers.def lists kernel " << row.name
                      << ", which is not generated here\n";
            return 1;
        }
    return 0;
}
