// Leaves of the expression DAG: what a stage reads (inputs, labels, targets, parameters) and
// constants. Each is a variable template: `input<"x", 784>`, `image_input<"x", 1, 28, 28>`,
// `param<"w", 784, 10, init::he_normal>`, `tensor_param<"w", Shape{8, 1, 3, 3}, init::he_normal>`.
#pragma once
#include <string>

#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/init.hpp"
#include "kiln/dsl/node.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

// random_mask: a dropout mask, computed from the step's seed (ops/dropout.hpp).
enum class LeafKind { input, labels, target, param, constant, batch_size, random_mask };

template <fixed_string Name, LeafKind Kind> struct NamedLeaf {
    static constexpr LeafKind leaf_kind = Kind;
    static constexpr auto fixed_name = Name;
    static constexpr std::string_view name = Name.view();
    static constexpr Notation notation{};
    static std::string format(const Texts&) { return std::string(name); }
};

// The features of each sample: a row of a matrix [N×F], or an image [N×C×H×W].
template <fixed_string Name, Shape S> struct InputOp : NamedLeaf<Name, LeafKind::input> {
    static_assert(S.batched() && S.cols > 0 && S.height > 0 && S.width > 0,
                  "input: channels (features), height and width must be positive compile-time sizes");
    static constexpr Shape shape() { return S; }
    static reference::Matrix evaluate(const reference::Context& c) { return c.lookup(InputOp::name, shape()); }
};

// Integer class ids in [0, Classes), one per row.
template <fixed_string Name, int Classes> struct LabelsOp : NamedLeaf<Name, LeafKind::labels> {
    static constexpr int classes = Classes;
    static constexpr Shape shape() { return {batch, 1}; }
    static reference::Matrix evaluate(const reference::Context& c) { return c.lookup(LabelsOp::name, shape()); }
};

template <fixed_string Name, int Features> struct TargetOp : NamedLeaf<Name, LeafKind::target> {
    static constexpr Shape shape() { return {batch, Features}; }
    static reference::Matrix evaluate(const reference::Context& c) { return c.lookup(TargetOp::name, shape()); }
};

// A trained parameter: a matrix (a dense weight [in × out], a bias [1 × out]) or a rank-4 tensor
// (a convolution filter [out × in × kh × kw], as PyTorch stores it).
template <fixed_string Name, Shape S, Initializer Init> struct ParamOp : NamedLeaf<Name, LeafKind::param> {
    static_assert(S.rows > 0 && S.cols > 0 && S.height > 0 && S.width > 0,
                  "param: every dimension must be a positive compile-time size");
    static constexpr Initializer initializer = Init;
    static constexpr Shape shape() { return S; }
    static reference::Matrix evaluate(const reference::Context& c) { return c.lookup(ParamOp::name, shape()); }
};

template <double Value> struct ConstantOp {
    static constexpr LeafKind leaf_kind = LeafKind::constant;
    static constexpr double value = Value;
    static constexpr Notation notation{};
    static constexpr Shape shape() { return {1, 1}; }
    static std::string format(const Texts&) { return number_text(Value); }
    static reference::Matrix evaluate(const reference::Context&) { return reference::Matrix(1, 1, Value); }
};

// N, the run-time batch size, as a scalar (the divisor of batch means).
struct BatchSizeOp {
    static constexpr LeafKind leaf_kind = LeafKind::batch_size;
    static constexpr Notation notation{};
    static constexpr Shape shape() { return {1, 1}; }
    static std::string format(const Texts&) { return "N"; }
    static reference::Matrix evaluate(const reference::Context& c) { return reference::Matrix(1, 1, c.batch); }
};

template <fixed_string Name, int Features> inline constexpr Expr<InputOp<Name, Shape{batch, Features}>> input{};
template <fixed_string Name, int Channels, int Height, int Width>
inline constexpr Expr<InputOp<Name, Shape{batch, Channels, Height, Width}>> image_input{};
template <fixed_string Name, int Classes> inline constexpr Expr<LabelsOp<Name, Classes>> labels{};
template <fixed_string Name, int Features> inline constexpr Expr<TargetOp<Name, Features>> target{};
template <fixed_string Name, int Rows, int Cols, Initializer Init = init::xavier_uniform>
inline constexpr Expr<ParamOp<Name, Shape{Rows, Cols}, Init>> param{};
template <fixed_string Name, Shape S, Initializer Init = init::xavier_uniform>
inline constexpr Expr<ParamOp<Name, S, Init>> tensor_param{};
template <double Value> inline constexpr Expr<ConstantOp<Value>> constant{};
inline constexpr Expr<BatchSizeOp> batch_size{};

template <class E> inline constexpr bool is_leaf = LeafOp<typename E::op>;
template <class E> constexpr bool is_constant_value(double v) {
    if constexpr (LeafOp<typename E::op>) {
        if constexpr (E::op::leaf_kind == LeafKind::constant) return E::op::value == v;
    }
    return false;
}

}  // namespace kiln::dsl
