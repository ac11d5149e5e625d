// A schedule as plain data: per materialized Func, the knobs its loops are built from. Lowering
// names Funcs deterministically, so one network always yields the same names and a plan written
// for it (by `<model>_tune`, or by hand) applies to every build. A Func the plan does not mention
// gets kiln's hand heuristics (FuncSchedule::defaults).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace kiln::codegen {

enum class LoopKind { elementwise, reduction, gemm, conv };
std::string_view loop_kind_name(LoopKind);

// What a target's vector register file holds (register_file(Target) in kernel_targets.hpp): float
// lanes per register and how many registers. A register tile — a GEMM's or a convolution's
// accumulators plus the operands each step loads — must fit it, or LLVM spills accumulators to
// the stack inside the innermost loop (AVX-512's 32 × 16 tiles are twice AVX2's 16 × 8 registers).
struct RegisterFile {
    int lanes = 16;      // float32 lanes per vector register: 16 (AVX-512), 8 (AVX2), 4 (SSE)
    int registers = 32;  // vector registers: 32 with AVX-512, 16 otherwise
    // Registers one knob vector of `floats` lanes takes (a 16-float vector is two AVX2 registers).
    int registers_for(int floats) const { return (floats + lanes - 1) / lanes; }
    // Accumulators a register tile may hold: the rest of the registers go to the operands a step
    // loads or broadcasts (AVX-512: 2 vectors of channels × 14 positions, 28 of 32, run without
    // spills when the input channels are the reduction's innermost loop; with the kernel taps
    // innermost, 24 spilled).
    int accumulator_budget() const { return registers - 4; }
    bool operator==(const RegisterFile&) const = default;
};

struct FuncSchedule {
    LoopKind kind = LoopKind::elementwise;
    int vector_width = 16;  // floats per SIMD vector (16: one AVX-512 register)
    int rows_per_task = 8;  // rows per parallel task; a GEMM reuses its right operand's column strip across
                            // them; a convolution's filter gradient sums blocks of this many images
    int tile_cols = 32;     // GEMM register tile: tile_cols/vector_width × tile_rows accumulators;
    int tile_rows = 8;      // a convolution's along x: tile_cols output channels × tile_rows image rows (one
                            // vector along x); a filter gradient's: tile_cols caps the tile's input channels
    bool fuse_epilogue = true;  // GEMM: computed tile by tile inside its pointwise consumer (bias, activation, output)
    // A convolution's vectors: 0 lets kiln choose (along output channels when there are 16k of
    // them and each output sums many terms, else along x), 1 along channels, 3 along x.
    int vector_axis = 0;

    // kiln's hand heuristics for an AVX-512 register file (what plans' omitted knobs default to),
    // and for any other: vectors of the machine's width, and GEMM and convolution tiles that fit its
    // registers (AVX2: a GEMM tile of 2 vectors × 6 rows, as BLIS's Haswell kernel; a first-layer
    // convolution tile of 4 channels × 3 rows).
    static FuncSchedule defaults(LoopKind kind) { return defaults(kind, RegisterFile{}); }
    static FuncSchedule defaults(LoopKind kind, const RegisterFile& machine) {
        const bool wide = machine.registers >= 32;
        if (kind == LoopKind::conv)
            return {kind, machine.lanes, 8, conv_tile_channels, wide ? conv_tile_rows : conv_tile_rows_narrow};
        if (kind == LoopKind::gemm && !wide) return {kind, machine.lanes, 12, 2 * machine.lanes, 6};
        return {kind, machine.lanes};
    }
    // A convolution's default register tile, as measured on the Fashion-MNIST CNN (bench/README.md).
    static constexpr int conv_tile_channels = 4, conv_tile_rows = 4, conv_tile_rows_narrow = 3;
    // Empty when the knobs are consistent, else what is wrong ("tile_cols 40 is not a multiple of …").
    std::string problem() const;
    bool operator==(const FuncSchedule&) const = default;
};

using StageSchedule = std::map<std::string, FuncSchedule>;  // Func name → knobs

// Plans key knobs by the Func names lowering gives ("n15_matmul"): a lowering change that renames
// or renumbers Funcs must bump this, so older plans are reported stale instead of putting a GEMM's
// knobs on another GEMM. (3: the backward stage recomputes values it used to read from the saved
// set, dsl/model.hpp, and numbers them.)
inline constexpr int lowering_version = 3;

struct ModelSchedule {
    std::string model, target;        // target "any": knobs valid everywhere (hand-written plans, tests)
    std::string network;              // fingerprint of the graph the plan was made for
    int lowering = lowering_version;  // the naming of the Funcs the knobs are keyed by
    std::map<std::string, StageSchedule> stages;
    std::string report_json = "{}";  // what the tuner measured, kept for people (not read back)
};

// A short hash of the model's graph listing: a plan made for another network is stale.
std::string network_fingerprint(const std::vector<std::string>& graph);
// Throws std::runtime_error naming the file and the field when the JSON is malformed. Knobs a plan
// omits take the defaults for its target's registers; a plan for target "any" (hand-made, for
// tests) takes `build_target`'s.
ModelSchedule read_schedule(const std::string& path, const std::string& build_target = "");
// Written to a temporary file and renamed over `path`, so a reader never sees half a plan.
void write_schedule(const ModelSchedule& schedule, const std::string& path);

}  // namespace kiln::codegen
