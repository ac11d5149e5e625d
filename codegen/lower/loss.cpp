// Losses (mean over the batch), row-wise softmax with the max subtracted, and one_hot.
#include "kiln/codegen/expr_math.hpp"
#include "kiln/codegen/lower.hpp"

namespace kiln::codegen {

using namespace Halide;

namespace {
// Per-row max and log-sum-exp of z, stored before the value that reads them (loop facts
// stored_first): every element of the row reads them.
struct RowStatistics {
    Func max, log_sum_exp;
};
RowStatistics row_statistics(LoweringContext& context, const Value& z) {
    RDom k(0, z.shape.cols, "class");
    const Var& r = context.row;
    Func row_max(context.fresh_name("row_max")), row_lse(context.fresh_name("row_log_sum_exp"));
    row_max(r) = maximum(z.func(k, r));
    row_lse(r) = formula::log_sum_exp(Expr(row_max(r)), sum(exp(z.func(k, r) - row_max(r))));
    return {row_max, row_lse};
}
}  // namespace

Value lower(const dsl::LossInfo& info, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    const Value& z = operands[0];
    const Value& t = operands[1];
    const Var &c = context.col, &r = context.row;
    Func total(context.fresh_name(std::string(loss_name(info.kind))));
    total(c, r) = 0.0f;
    RowStatistics stats;
    if (info.kind == LossKind::softmax_cross_entropy) {
        stats = row_statistics(context, z);
        RDom n(0, context.rows(z.shape), "sample");
        Expr label = clamp(t.func(0, n), 0, z.shape.cols - 1);
        total(c, r) += stats.log_sum_exp(n) - z.func(label, n);
        total(c, r) = total(c, r) / cast<float>(context.rows(z.shape));
    } else {
        RDom e(0, z.shape.cols, 0, context.rows(z.shape), "element");
        Expr a = z.func(e.x, e.y), y = t.func(e.x, e.y);
        if (info.kind == LossKind::bce_with_logits) total(c, r) += formula::bce_with_logits(a, y);
        else total(c, r) += formula::squared_error(a, y);
        total(c, r) = total(c, r) / (cast<float>(context.rows(z.shape)) * z.shape.cols);
    }
    const bool has_statistics = info.kind == LossKind::softmax_cross_entropy;
    std::vector<Func> statistics;
    if (has_statistics) statistics = {stats.max, stats.log_sum_exp};
    return {total, shape, ValueKind::reduction, loops::Scalar{statistics}};
}

Value lower(const dsl::SoftmaxInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    RowStatistics stats = row_statistics(context, operands[0]);
    Func f(context.fresh_name("softmax"));
    f(context.col, context.row) = exp(operands[0].func(context.col, context.row) - stats.log_sum_exp(context.row));
    return {f, shape, ValueKind::reduction, loops::Pointwise{{stats.max, stats.log_sum_exp}}};
}

Value lower(const dsl::OneHotInfo&, LoweringContext& context, const Operands& operands, dsl::Shape shape) {
    Func f(context.fresh_name("one_hot"));
    f(context.col, context.row) = select(context.col == operands[0].func(0, context.row), 1.0f, 0.0f);
    return {f, shape, ValueKind::elementwise, loops::Pointwise{}};
}

}  // namespace kiln::codegen
