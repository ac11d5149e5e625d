// The op concept: what a type must provide to be the operation of an expression node
// `Expr<Op, Children...>`. Every node of every network, and every node grad() derives, satisfies it
// (node.hpp checks it), so reading this page is enough to write a new op.
//
// An op is an empty struct; everything about it is static and known at compile time.
//
// Minimal complete definition, for every op:
//   shape(Shape child...) -> Shape     the result's shape (constexpr). Readable shape errors come
//                                      first, from static_asserts in the op's constructor function
//                                      (checks.hpp), so shape() may assume valid operands.
//   notation                           a Notation (precedence, infix symbol): where print.hpp puts
//                                      parentheses
//   format(Texts) -> std::string       the printed form, given the children's printed forms
//   vjp(Expr<Op, C...> node, G g)      the vector-Jacobian product: a hana::tuple with, per child,
//                                      an expression for its adjoint contribution (or no_gradient).
//                                      Written with DSL ops, so gradients of gradients compose and
//                                      print. Leaves have none.
// and its meaning, in one of three forms:
//   LeafOp         leaf_kind (LeafKind), and evaluate(const reference::Context&) for the reference.
//                  The stage binds inputs, labels, targets and parameters to buffers; constants,
//                  N and dropout masks are computed (leaves.hpp, ops/dropout.hpp).
//   ElementwiseOp  func_name and `template <class T> static T value(T operand...)`: ONE formula,
//                  instantiated with double by the reference (evaluate.hpp) and with Halide::Expr by
//                  codegen's generic elementwise lowering. Broadcasting along size-1 axes is done
//                  by both callers; the op writes only the scalar formula. Nothing else to write:
//                  no lowering file, no reference function (ops/unary.hpp, ops/arithmetic.hpp).
//   LoweredOp      a `lowering` value (a small info struct; codegen dispatches on its type to
//                  codegen/lower/<family>.cpp or, for GEMMs, codegen/gemm/, all listed in
//                  codegen/include/kiln/codegen/lower.hpp) and
//                  evaluate(const reference::Context&, const reference::Matrix& child...) for the
//                  reference: reductions, GEMMs, losses, softmax, maxout — ops whose loops are not
//                  one element from one element.
//
// Models: UnaryOp (ops/unary.hpp: a row per function), BinaryOp, SelectPositiveOp (elementwise);
// MatmulOp, ReduceOp, LossOp (lowered); InputOp, ParamOp (leaves).
#pragma once
#include <concepts>
#include <string>

#include "kiln/dsl/notation.hpp"

namespace kiln::dsl {

template <class Op>
concept LeafOp = requires {
    Op::leaf_kind;
};

template <class Op>
concept PrintableOp = requires(const Texts& parts) {
    { Op::notation } -> std::convertible_to<Notation>;
    { Op::format(parts) } -> std::convertible_to<std::string>;
};

template <class Op>
concept ElementwiseOp = PrintableOp<Op> && !LeafOp<Op> && requires {
    Op::func_name;
    &Op::template value<double>;
};

template <class Op>
concept LoweredOp = PrintableOp<Op> && !LeafOp<Op> && requires {
    Op::lowering;
    &Op::evaluate;
};

template <class Op>
concept Operation = PrintableOp<Op> &&(LeafOp<Op> || ElementwiseOp<Op> || LoweredOp<Op>);

}  // namespace kiln::dsl
