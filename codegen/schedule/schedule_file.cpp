// Schedule plans as JSON: {"model", "target", "network", "stages": {stage: {func: knobs}}, "report"}.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "kiln/codegen/kernel_targets.hpp"
#include "kiln/codegen/schedule_plan.hpp"

namespace kiln::codegen {

using nlohmann::json;

std::string_view loop_kind_name(LoopKind kind) {
    switch (kind) {
        case LoopKind::elementwise: return "elementwise";
        case LoopKind::reduction: return "reduction";
        case LoopKind::gemm: return "gemm";
        case LoopKind::conv: return "conv";
    }
    return "?";
}

std::string FuncSchedule::problem() const {
    if (vector_width != 4 && vector_width != 8 && vector_width != 16) return "vector_width must be 4, 8 or 16";
    if (rows_per_task < 1 || rows_per_task > 4096) return "rows_per_task must be in [1, 4096]";
    if (kind == LoopKind::conv) {
        if (tile_cols < 1 || tile_cols > 32) return "tile_cols (output channels per tile) must be in [1, 32]";
        if (tile_rows < 1 || tile_rows > 16) return "tile_rows (image rows per tile) must be in [1, 16]";
        if (tile_cols * tile_rows > 30) return "tile_cols × tile_rows accumulators must be at most 30";
        if (vector_axis != 0 && vector_axis != 1 && vector_axis != 3)
            return "vector_axis must be 0 (kiln chooses), 1 (output channels) or 3 (x)";
        return {};
    }
    if (kind != LoopKind::gemm) return {};
    if (tile_cols < vector_width || tile_cols > 128 || tile_cols % vector_width != 0)
        return "tile_cols " + std::to_string(tile_cols) + " must be a multiple of vector_width " +
               std::to_string(vector_width) + " up to 128";
    if (tile_rows < 1 || tile_rows > 32) return "tile_rows must be in [1, 32]";
    if (rows_per_task % tile_rows != 0)
        return "rows_per_task " + std::to_string(rows_per_task) + " must be a multiple of tile_rows " +
               std::to_string(tile_rows);
    return {};
}

std::string network_fingerprint(const std::vector<std::string>& graph) {
    std::uint64_t hash = 1469598103934665603ull;  // FNV-1a
    for (const std::string& line : graph)
        for (unsigned char ch : line + "\n") hash = (hash ^ ch) * 1099511628211ull;
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

namespace {
LoopKind parse_kind(const std::string& text, const std::string& where) {
    for (LoopKind kind : {LoopKind::elementwise, LoopKind::reduction, LoopKind::gemm, LoopKind::conv})
        if (loop_kind_name(kind) == text) return kind;
    throw std::runtime_error(where + ".kind: expected elementwise, reduction, gemm or conv, got \"" + text + "\"");
}

// The registers of the plan's first (best) target: what a knob the plan leaves out defaults to, as
// the generator's own defaults would for that target (an AVX2 plan gets AVX2 tiles). A hand-made
// plan for "any" target takes the build's (`build_target`; none given: AVX-512's registers).
RegisterFile plan_registers(const std::string& targets, const std::string& build_target) {
    if (targets == "any") return build_target.empty() ? RegisterFile{} : plan_registers(build_target, "");
    const std::vector<std::string> list = cpu::target_list(targets);
    if (list.empty() || !Halide::Target::validate_target_string(list.front()))
        throw std::runtime_error("target: expected a Halide target such as x86-64-linux-avx-avx2-f16c-fma-sse41, got \"" +
                                 targets + "\"");
    return register_file(Halide::Target(list.front()));
}

// A Func's knobs; the ones `entry` omits are the defaults for its kind on `machine`.
FuncSchedule parse_func(const json& entry, const std::string& where, const RegisterFile& machine) {
    if (!entry.is_object()) throw std::runtime_error(where + ": expected an object of knobs");
    if (!entry.contains("kind")) throw std::runtime_error(where + ": missing \"kind\"");
    FuncSchedule knobs = FuncSchedule::defaults(parse_kind(entry.at("kind").get<std::string>(), where), machine);
    for (const auto& [key, value] : entry.items()) {
        if (key == "kind") continue;
        int* field = key == "vector_width"    ? &knobs.vector_width
                     : key == "rows_per_task" ? &knobs.rows_per_task
                     : key == "tile_cols"     ? &knobs.tile_cols
                     : key == "tile_rows"     ? &knobs.tile_rows
                     : key == "vector_axis"   ? &knobs.vector_axis
                                              : nullptr;
        if (key == "fuse_epilogue") {
            if (!value.is_boolean()) throw std::runtime_error(where + ".fuse_epilogue: expected true or false");
            knobs.fuse_epilogue = value.get<bool>();
        } else if (field) {
            if (!value.is_number_integer()) throw std::runtime_error(where + "." + key + ": expected an integer");
            *field = value.get<int>();
        } else {
            throw std::runtime_error(where + ": unknown knob \"" + key + "\"");
        }
    }
    if (std::string problem = knobs.problem(); !problem.empty()) throw std::runtime_error(where + ": " + problem);
    return knobs;
}

json to_json(const FuncSchedule& knobs) {
    json entry{{"kind", loop_kind_name(knobs.kind)},
               {"vector_width", knobs.vector_width},
               {"rows_per_task", knobs.rows_per_task}};
    if (knobs.kind == LoopKind::gemm) {
        entry["tile_cols"] = knobs.tile_cols;
        entry["tile_rows"] = knobs.tile_rows;
        entry["fuse_epilogue"] = knobs.fuse_epilogue;
    }
    if (knobs.kind == LoopKind::conv) {
        entry["tile_cols"] = knobs.tile_cols;
        entry["tile_rows"] = knobs.tile_rows;
        entry["vector_axis"] = knobs.vector_axis;
    }
    return entry;
}
}  // namespace

ModelSchedule read_schedule(const std::string& path, const std::string& build_target) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error("cannot read schedule " + path);
    json document;
    try {
        document = json::parse(file);
    } catch (const json::parse_error& error) {
        throw std::runtime_error("schedule " + path + ": not valid JSON: " + error.what());
    }
    try {
        ModelSchedule schedule;
        schedule.model = document.at("model").get<std::string>();
        schedule.target = document.at("target").get<std::string>();
        schedule.network = document.at("network").get<std::string>();
        schedule.lowering = document.value("lowering", 0);  // plans from before the field: version 0
        if (document.contains("report")) schedule.report_json = document.at("report").dump();
        const RegisterFile machine = plan_registers(schedule.target, build_target);
        for (const auto& [stage, funcs] : document.at("stages").items()) {
            if (!funcs.is_object()) throw std::runtime_error("stages." + stage + ": expected an object of Funcs");
            for (const auto& [func, entry] : funcs.items())
                schedule.stages[stage][func] = parse_func(entry, "stages." + stage + "." + func, machine);
        }
        return schedule;
    } catch (const json::exception& error) {  // missing field, wrong type
        throw std::runtime_error("schedule " + path + ": " + error.what());
    } catch (const std::runtime_error& error) {
        throw std::runtime_error("schedule " + path + ": " + error.what());
    }
}

void write_schedule(const ModelSchedule& schedule, const std::string& path) {
    json document{{"model", schedule.model},
                  {"target", schedule.target},
                  {"network", schedule.network},
                  {"lowering", schedule.lowering},
                  {"stages", json::object()}};
    for (const auto& [stage, funcs] : schedule.stages)
        for (const auto& [func, knobs] : funcs) document["stages"][stage][func] = to_json(knobs);
    document["report"] = json::parse(schedule.report_json);
    const std::string temporary = path + ".tmp";
    {
        std::ofstream file(temporary);
        file << document.dump(2) << "\n";
        if (!file.flush()) throw std::runtime_error("cannot write " + temporary);
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot rename " + temporary + " to " + path);
}

}  // namespace kiln::codegen
