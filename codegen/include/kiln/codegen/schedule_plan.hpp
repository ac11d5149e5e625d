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

struct FuncSchedule {
    LoopKind kind = LoopKind::elementwise;
    int vector_width = 16;  // floats per SIMD vector (16: one AVX-512 register)
    int rows_per_task = 8;  // rows per parallel task; a GEMM reuses its right operand's column strip across
                            // them; a convolution's filter gradient sums blocks of this many images
    int tile_cols = 32;     // GEMM register tile: tile_cols/vector_width × tile_rows accumulators;
    int tile_rows = 8;      // a convolution's: tile_cols output channels × tile_rows image rows (one vector along x)
    bool fuse_epilogue = true;  // GEMM: computed tile by tile inside its pointwise consumer (bias, activation, output)
    // A convolution's vectors: 0 lets kiln choose (along output channels when there are 16k of
    // them and each output sums many terms, else along x), 1 along channels, 3 along x.
    int vector_axis = 0;

    static FuncSchedule defaults(LoopKind kind) {
        if (kind == LoopKind::conv) return {kind, 16, 8, conv_tile_channels, conv_tile_rows};
        return {kind};
    }
    // A convolution's default register tile, as measured on the Fashion-MNIST CNN (bench/README.md).
    static constexpr int conv_tile_channels = 4, conv_tile_rows = 4;
    // Empty when the knobs are consistent, else what is wrong ("tile_cols 40 is not a multiple of …").
    std::string problem() const;
    bool operator==(const FuncSchedule&) const = default;
};

using StageSchedule = std::map<std::string, FuncSchedule>;  // Func name → knobs

// Plans key knobs by the Func names lowering gives ("n15_matmul"): a lowering change that renames
// or renumbers Funcs must bump this, so older plans are reported stale instead of putting a GEMM's
// knobs on another GEMM.
inline constexpr int lowering_version = 2;

struct ModelSchedule {
    std::string model, target;        // target "any": knobs valid everywhere (hand-written plans, tests)
    std::string network;              // fingerprint of the graph the plan was made for
    int lowering = lowering_version;  // the naming of the Funcs the knobs are keyed by
    std::map<std::string, StageSchedule> stages;
    std::string report_json = "{}";  // what the tuner measured, kept for people (not read back)
};

// A short hash of the model's graph listing: a plan made for another network is stale.
std::string network_fingerprint(const std::vector<std::string>& graph);
// Throws std::runtime_error naming the file and the field when the JSON is malformed.
ModelSchedule read_schedule(const std::string& path);
// Written to a temporary file and renamed over `path`, so a reader never sees half a plan.
void write_schedule(const ModelSchedule& schedule, const std::string& path);

}  // namespace kiln::codegen
