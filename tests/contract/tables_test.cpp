// The contract's tables: names are unique and the enum order is the table order (the descriptor
// indexes stages by kind), each optimizer's kernels are rows of the kernel table, and the loss
// helpers the runtime relies on give what each task implies.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <kiln/contract/buffer_roles.hpp>
#include <kiln/contract/initializers.hpp>
#include <kiln/contract/losses.hpp>
#include <kiln/contract/model_descriptor.hpp>
#include <kiln/contract/optimizers.hpp>
#include <kiln/contract/stages.hpp>
#include <kiln/contract/table.hpp>

namespace {
template <class Row, std::size_t N, class Kind> void check_table(const Row (&table)[N], Kind Row::*kind) {
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < N; ++i) {
        INFO("row " << i << " " << table[i].name);
        CHECK(int(table[i].*kind) == int(i));
        CHECK(names.insert(table[i].name).second);
        CHECK(kiln::contract::find_row(table, table[i].name) == &table[i]);
    }
    CHECK(kiln::contract::find_row(table, "no_such_row") == nullptr);
}
}  // namespace

TEST_CASE("every table: unique names, enum order is table order", "[contract]") {
    check_table(kiln::stage_table, &kiln::StageRow::kind);
    check_table(kiln::buffer_role_table, &kiln::BufferRoleRow::role);
    check_table(kiln::loss_table, &kiln::LossRow::kind);
    check_table(kiln::init_kind_table, &kiln::InitKindRow::kind);
    check_table(kiln::optimizer_kernel_table, &kiln::OptimizerKernelRow::kernel);
    check_table(kiln::optimizer_table, &kiln::OptimizerRow::kind);
    CHECK(kiln::stage_count == 5);
    CHECK(kiln::contract::row_names(kiln::optimizer_table).size() == 11);
}

TEST_CASE("each optimizer names kernels that exist, and state only where it keeps some", "[contract]") {
    for (const kiln::OptimizerRow& row : kiln::optimizer_table) {
        INFO(row.name);
        const auto kernels = kiln::contract::words(row.kernels);
        CHECK(!kernels.empty());
        for (std::string_view kernel : kernels)
            CHECK(kiln::contract::find_row(kiln::optimizer_kernel_table, kernel) != nullptr);
        CHECK(kiln::contract::words(row.state).empty() ==
              (row.kind == kiln::OptimizerKind::sgd));  // plain SGD keeps no state
    }
}

TEST_CASE("words splits a space-separated list", "[contract]") {
    CHECK(kiln::contract::words("exp_avg exp_avg_sq") == std::vector<std::string_view>{"exp_avg", "exp_avg_sq"});
    CHECK(kiln::contract::words(" a  b ") == std::vector<std::string_view>{"a", "b"});
    CHECK(kiln::contract::words("").empty());
}

TEST_CASE("what each loss implies for the runtime", "[contract]") {
    using kiln::LossKind;
    CHECK(kiln::is_classifier(LossKind::softmax_cross_entropy));
    CHECK(kiln::is_classifier(LossKind::bce_with_logits));
    CHECK(!kiln::is_classifier(LossKind::mse));
    CHECK(!kiln::is_classifier(LossKind::custom));
    CHECK(kiln::class_count(LossKind::softmax_cross_entropy, 10) == 10);
    CHECK(kiln::class_count(LossKind::bce_with_logits, 1) == 2);
    CHECK(kiln::class_count(LossKind::mse, 3) == 0);
    CHECK(kiln::expected_initial_loss(LossKind::softmax_cross_entropy, 10) == Approx(std::log(10.0)));
    CHECK(kiln::expected_initial_loss(LossKind::bce_with_logits, 1) == Approx(std::log(2.0)));
    CHECK(std::isnan(kiln::expected_initial_loss(LossKind::mse, 1)));
    CHECK(kiln::loss_name(LossKind::custom) == "custom");
}

TEST_CASE("a descriptor indexes its stages by kind", "[contract]") {
    kiln::ModelDescriptor d;
    CHECK(d.format_version == kiln::descriptor_format_version);
    d.stage(kiln::StageKind::backward).flops_fixed = 7;
    CHECK(d.stages[4].flops_fixed == 7);
    CHECK(kiln::stage_name(kiln::StageKind::backward) == "backward");
    CHECK(kiln::stage_row(kiln::StageKind::forward).mode == kiln::StageMode::training);
    CHECK(kiln::stage_row(kiln::StageKind::evaluate).mode == kiln::StageMode::inference);
}
