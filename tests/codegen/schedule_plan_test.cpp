// Schedule plans as data: JSON round trip, clear errors naming the field, knob consistency, and
// the tuner's neighbourhood staying inside the valid knobs.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kiln/codegen/kernel_targets.hpp"
#include "kiln/codegen/tuner.hpp"

namespace {

using namespace kiln::codegen;

std::string temporary_path(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("a plan survives a JSON round trip", "[codegen][schedule]") {
    ModelSchedule plan;
    plan.model = "m";
    plan.target = "x86-64-linux";
    plan.network = "0123456789abcdef";
    FuncSchedule gemm = FuncSchedule::defaults(LoopKind::gemm);
    gemm.tile_cols = 48;
    gemm.tile_rows = 6;
    gemm.rows_per_task = 24;
    gemm.fuse_epilogue = false;
    FuncSchedule loop = FuncSchedule::defaults(LoopKind::reduction);
    loop.rows_per_task = 3;
    loop.vector_width = 8;
    plan.stages["forward"]["n0_matmul"] = gemm;
    plan.stages["backward"]["n7_sum_rows"] = loop;
    FuncSchedule conv = FuncSchedule::defaults(LoopKind::conv);
    conv.tile_cols = 6;
    conv.tile_rows = 3;
    conv.vector_axis = 3;
    conv.rows_per_task = 16;
    plan.stages["backward"]["n55_conv2d_data"] = conv;
    plan.report_json = R"({"note":"x"})";
    plan.lowering = lowering_version + 1;
    const std::string path = temporary_path("kiln_plan_roundtrip.json");
    write_schedule(plan, path);
    const ModelSchedule read = read_schedule(path);
    CHECK(read.model == "m");
    CHECK(read.target == "x86-64-linux");
    CHECK(read.network == "0123456789abcdef");
    CHECK(read.lowering == lowering_version + 1);
    CHECK(read.stages.at("forward").at("n0_matmul") == gemm);
    CHECK(read.stages.at("backward").at("n7_sum_rows") == loop);
    CHECK(read.stages.at("backward").at("n55_conv2d_data") == conv);
    CHECK(!std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("a plan without a lowering version predates it: version 0", "[codegen][schedule]") {
    const std::string path = temporary_path("kiln_plan_unversioned.json");
    write_text(path, R"({"model": "m", "target": "x86-64-linux", "network": "n", "stages": {}})");
    CHECK(read_schedule(path).lowering == 0);
    CHECK(ModelSchedule{}.lowering == lowering_version);
}

TEST_CASE("bad plans are refused with the file and field named", "[codegen][schedule]") {
    const std::string path = temporary_path("kiln_plan_bad.json");
    auto refused = [&](const std::string& stages, const std::string& expected) {
        write_text(path, R"({"model": "m", "target": "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41",)"
                         R"( "network": "n", "stages": )" + stages + "}");
        INFO(stages);
        REQUIRE_THROWS_WITH(read_schedule(path), Catch::Contains(path) && Catch::Contains(expected));
    };
    refused(R"({"infer": {"n0_matmul": {"kind": "gemm", "tile_cols": 40}}})",
            "stages.infer.n0_matmul: tile_cols 40 must be a multiple of vector_width 16");
    refused(R"({"infer": {"n0_matmul": {"kind": "gemm", "tile_rows": 6}}})",
            "rows_per_task 8 must be a multiple of tile_rows 6");
    refused(R"({"infer": {"n1": {"kind": "tiled"}}})", "stages.infer.n1.kind: expected elementwise, reduction, gemm or conv");
    refused(R"({"infer": {"n1": {"kind": "elementwise", "unroll": 2}}})", "stages.infer.n1: unknown knob \"unroll\"");
    refused(R"({"infer": {"n1": {"kind": "elementwise", "rows_per_task": "8"}}})",
            "stages.infer.n1.rows_per_task: expected an integer");
    refused(R"({"infer": {"n1": {"kind": "elementwise", "vector_width": 12}}})", "vector_width must be 4, 8 or 16");
    refused(R"({"infer": {"n1": {"rows_per_task": 8}}})", "stages.infer.n1: missing \"kind\"");
    refused(R"({"forward": {"n3_conv2d": {"kind": "conv", "vector_axis": 2}}})",
            "stages.forward.n3_conv2d: vector_axis must be 0 (kiln chooses), 1 (output channels) or 3 (x)");
    refused(R"({"forward": {"n3_conv2d": {"kind": "conv", "tile_cols": 8, "tile_rows": 8}}})",
            "tile_cols × tile_rows accumulators must be at most 30");
    write_text(path, "{\"model\": ");
    REQUIRE_THROWS_WITH(read_schedule(path), Catch::Contains(path) && Catch::Contains("not valid JSON"));
    write_text(path, R"({"model": "m", "stages": {}})");
    REQUIRE_THROWS_WITH(read_schedule(path), Catch::Contains(path) && Catch::Contains("target"));
    write_text(path, R"({"model": "m", "target": "x86-64-linux-avx9000", "network": "n", "stages": {}})");
    REQUIRE_THROWS_WITH(read_schedule(path), Catch::Contains(path) && Catch::Contains("target: expected a Halide target") &&
                                                 Catch::Contains("avx9000"));
    REQUIRE_THROWS_WITH(read_schedule(temporary_path("kiln_no_such_plan.json")),
                        Catch::Contains("cannot read schedule"));
}

TEST_CASE("knobs a plan omits default to its own target's registers", "[codegen][schedule]") {
    const std::string path = temporary_path("kiln_plan_defaults.json");
    const std::pair<std::string, RegisterFile> targets[] = {
        {std::string(kiln::cpu::tiers[0].target), RegisterFile{16, 32}},
        {std::string(kiln::cpu::tiers[1].target) + "," + std::string(kiln::cpu::tiers[2].target), RegisterFile{8, 16}},
    };
    for (const auto& [target, machine] : targets) {
        INFO(target);
        write_text(path, R"({"model": "m", "target": ")" + target +
                             R"(", "network": "n", "stages": {"forward": {"n0_matmul": {"kind": "gemm"},)"
                             R"( "n3_conv2d": {"kind": "conv"}}}})");
        const ModelSchedule plan = read_schedule(path);
        CHECK(plan.stages.at("forward").at("n0_matmul") == FuncSchedule::defaults(LoopKind::gemm, machine));
        CHECK(plan.stages.at("forward").at("n3_conv2d") == FuncSchedule::defaults(LoopKind::conv, machine));
    }
    // A hand-made plan for "any" target: the build's registers (none named: AVX-512's).
    write_text(path, R"({"model": "m", "target": "any", "network": "n", "stages": {"forward": {"n0_matmul": {"kind": "gemm"}}}})");
    CHECK(read_schedule(path, std::string(kiln::cpu::tiers[1].target)).stages.at("forward").at("n0_matmul") ==
          FuncSchedule::defaults(LoopKind::gemm, RegisterFile{8, 16}));
    CHECK(read_schedule(path).stages.at("forward").at("n0_matmul") == FuncSchedule::defaults(LoopKind::gemm));
    CHECK(!(FuncSchedule::defaults(LoopKind::gemm, RegisterFile{16, 32}) ==
            FuncSchedule::defaults(LoopKind::gemm, RegisterFile{8, 16})));  // else the check above proves nothing
}

TEST_CASE("the tuner's neighbours are valid knobs that differ in one knob", "[codegen][schedule]") {
    for (LoopKind kind : {LoopKind::elementwise, LoopKind::reduction, LoopKind::gemm}) {
        const FuncSchedule start = FuncSchedule::defaults(kind);
        const std::vector<FuncSchedule> candidates = neighbours(start);
        REQUIRE(candidates.size() >= 5);
        for (const FuncSchedule& c : candidates) {
            CHECK(c.problem().empty());
            CHECK(!(c == start));
            CHECK(c.kind == kind);
            if (kind == LoopKind::gemm) CHECK(c.tile_cols / c.vector_width * c.tile_rows <= 30);  // no register spills
        }
    }
    // Changing the tile height keeps the number of row tiles per task.
    FuncSchedule gemm = FuncSchedule::defaults(LoopKind::gemm);
    gemm.rows_per_task = 4 * gemm.tile_rows;
    bool saw_six = false;
    for (const FuncSchedule& c : neighbours(gemm))
        if (c.tile_rows == 6) {
            saw_six = true;
            CHECK(c.rows_per_task == 24);
        }
    CHECK(saw_six);
}

TEST_CASE("each CPU tier's register file, and default tiles that fit it", "[codegen][schedule]") {
    CHECK(register_file(Halide::Target(std::string(kiln::cpu::tiers[0].target))) == RegisterFile{16, 32});
    CHECK(register_file(Halide::Target(std::string(kiln::cpu::tiers[1].target))) == RegisterFile{8, 16});
    CHECK(register_file(Halide::Target(std::string(kiln::cpu::tiers[2].target))) == RegisterFile{4, 16});
    CHECK(FuncSchedule::defaults(LoopKind::gemm) == FuncSchedule::defaults(LoopKind::gemm, RegisterFile{16, 32}));
    for (const RegisterFile machine : {RegisterFile{16, 32}, RegisterFile{8, 16}, RegisterFile{4, 16}}) {
        INFO(machine.lanes << " lanes × " << machine.registers << " registers");
        for (LoopKind kind : {LoopKind::elementwise, LoopKind::reduction, LoopKind::gemm, LoopKind::conv}) {
            const FuncSchedule knobs = FuncSchedule::defaults(kind, machine);
            CHECK(knobs.problem().empty());
            CHECK(knobs.vector_width == machine.lanes);
        }
        const FuncSchedule gemm = FuncSchedule::defaults(LoopKind::gemm, machine);
        CHECK(machine.registers_for(gemm.tile_cols) * gemm.tile_rows <= machine.registers - 2);
        CHECK(gemm.tile_cols >= 2 * machine.lanes);  // two vectors: a broadcast serves two FMAs
        const FuncSchedule conv = FuncSchedule::defaults(LoopKind::conv, machine);  // one vector along x
        CHECK(conv.tile_cols * conv.tile_rows <= machine.accumulator_budget());
        for (const FuncSchedule& c : neighbours(gemm, machine))
            if (c.kind == LoopKind::gemm) CHECK(machine.registers_for(c.tile_cols) * c.tile_rows <= machine.registers - 2);
    }
    // AVX-512's 32 × 8 tile is 32 AVX2 registers: never offered to an AVX2 machine.
    FuncSchedule avx2 = FuncSchedule::defaults(LoopKind::gemm, RegisterFile{8, 16});
    for (const FuncSchedule& c : neighbours(avx2, RegisterFile{8, 16})) CHECK(!(c.tile_cols == 32 && c.tile_rows == 8));
}

TEST_CASE("a network fingerprint changes with the graph", "[codegen][schedule]") {
    const std::vector<std::string> graph{"x  [N×4] (input)", "%0 = x·W  [N×3]"};
    CHECK(network_fingerprint(graph) == network_fingerprint(graph));
    CHECK(network_fingerprint(graph) != network_fingerprint({"x  [N×4] (input)", "%0 = x·W  [N×2]"}));
    CHECK(network_fingerprint(graph).size() == 16);
}
