// safetensors: round trips, conversions from other dtypes, atomic replacement, bad files, and
// checkpoints that belong to another model.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <kiln/checkpoint.hpp>
#include <kiln/error.hpp>
#include <kiln/torch_layout.hpp>
#include <nlohmann/json.hpp>

#include "temp_dir.hpp"

using Catch::Contains;
using kiln::test::TempDir;

namespace {
kiln::ModelDescriptor tiny_model(const std::string& name, int hidden) {
    kiln::ModelDescriptor d;
    d.name = name;
    d.params = {{"w", 3, hidden, {kiln::InitKind::zeros}, {}}, {"b", 1, hidden, {kiln::InitKind::zeros}, {}}};
    d.input = {"x", 3};
    d.supervision = {"y", 1, true, hidden};
    return d;
}

std::string raw_safetensors(const nlohmann::json& header, const std::string& data) {
    std::string text = header.dump();
    uint64_t size = text.size();
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &size, 8);
    return bytes + text + data;
}
}  // namespace

TEST_CASE("safetensors round trip, with metadata", "[runtime][checkpoint]") {
    TempDir dir;
    kiln::SafetensorsFile file;
    file.metadata["model"] = "m";
    file.tensors["a"] = {{2, 3}, {1, 2, 3, 4, 5, 6}};
    file.tensors["scalar"] = {{}, {7}};
    kiln::write_safetensors(dir.file("t.safetensors"), file);
    kiln::SafetensorsFile back = kiln::read_safetensors(dir.file("t.safetensors"));
    CHECK(back.metadata.at("model") == "m");
    CHECK(back.tensors.at("a").shape == std::vector<int64_t>{2, 3});
    CHECK(back.tensors.at("a").values == file.tensors["a"].values);
    CHECK(back.tensors.at("scalar").values == std::vector<float>{7});
}

TEST_CASE("safetensors: F64, I32 and I64 tensors are read as floats", "[runtime][checkpoint]") {
    TempDir dir;
    double d[2] = {1.5, -2};
    int64_t l[2] = {3, 9};
    int32_t i[1] = {-4};
    std::string data(reinterpret_cast<char*>(d), 16);
    data += std::string(reinterpret_cast<char*>(l), 16) + std::string(reinterpret_cast<char*>(i), 4);
    nlohmann::json header{{"d", {{"dtype", "F64"}, {"shape", {2}}, {"data_offsets", {0, 16}}}},
                          {"l", {{"dtype", "I64"}, {"shape", {2, 1}}, {"data_offsets", {16, 32}}}},
                          {"i", {{"dtype", "I32"}, {"shape", {1}}, {"data_offsets", {32, 36}}}}};
    kiln::test::write_text(dir.file("m.safetensors"), raw_safetensors(header, data));
    auto file = kiln::read_safetensors(dir.file("m.safetensors"));
    CHECK(file.tensors.at("d").values == std::vector<float>{1.5f, -2});
    CHECK(file.tensors.at("l").values == std::vector<float>{3, 9});
    CHECK(file.tensors.at("i").values == std::vector<float>{-4});
}

TEST_CASE("safetensors: bad files are rejected naming file and tensor", "[runtime][checkpoint]") {
    TempDir dir;
    auto read = [&](const std::string& bytes) {
        kiln::test::write_text(dir.file("bad.safetensors"), bytes);
        return kiln::read_safetensors(dir.file("bad.safetensors"));
    };
    REQUIRE_THROWS_WITH(kiln::read_safetensors(dir.file("missing.safetensors")),
                        Contains("missing.safetensors") && Contains("not found"));
    REQUIRE_THROWS_WITH(read("abc"), Contains("not a safetensors file"));
    REQUIRE_THROWS_WITH(read(raw_safetensors(nlohmann::json::array(), "")), Contains("not a JSON object"));
    std::string broken = raw_safetensors({{"a", 1}}, "");
    broken[9] = '#';
    REQUIRE_THROWS_WITH(read(broken), Contains("corrupt safetensors header"));
    REQUIRE_THROWS_WITH(
        read(raw_safetensors({{"w", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {0, 16}}}}}, "12345678")),
        Contains("tensor 'w'") && Contains("truncated"));
    REQUIRE_THROWS_WITH(
        read(raw_safetensors({{"w", {{"dtype", "BF16"}, {"shape", {1}}, {"data_offsets", {0, 2}}}}}, "12")),
        Contains("dtype BF16 is not supported"));
}

TEST_CASE("writes are atomic: the old file stays whole until the new one replaces it", "[runtime][checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("c.safetensors");
    kiln::SafetensorsFile first, second;
    first.tensors["a"] = {{1}, {1}};
    second.tensors["a"] = {{2}, {2, 3}};
    kiln::write_safetensors(path, first);
    kiln::write_safetensors(path, second);
    CHECK(kiln::read_safetensors(path).tensors.at("a").values == std::vector<float>{2, 3});
    int entries = 0;
    for (auto& entry : std::filesystem::directory_iterator(dir.path())) entries += !entry.path().empty();
    CHECK(entries == 1);  // no temporary file left behind
    REQUIRE_THROWS_WITH(kiln::write_safetensors(dir.file("no/such/dir/c.safetensors"), first),
                        Contains("does not exist"));
    CHECK(kiln::read_safetensors(path).tensors.at("a").values == std::vector<float>{2, 3});
}

TEST_CASE("checkpoints carry parameters and standardization, and know their model", "[runtime][checkpoint]") {
    TempDir dir;
    kiln::ModelDescriptor d = tiny_model("tiny", 4);
    kiln::Model model(d);
    float next = 0;
    for (std::size_t p = 0; p < d.params.size(); ++p)  // the values (the gaps between parameters stay zero)
        for (float& v : model.params()[p]) v = (next++) * 0.5f;
    kiln::Preprocessor s{"standardize", kiln::Tensor(1, 3, 2.0f), kiln::Tensor(1, 3, 0.25f), {}};
    kiln::save_checkpoint(dir.file("tiny.safetensors"), model, s, 3, 0);

    kiln::Model restored(d);
    kiln::Preprocessor back = kiln::load_checkpoint(dir.file("tiny.safetensors"), restored);
    CHECK(std::equal(model.params().all().begin(), model.params().all().end(), restored.params().all().begin()));
    CHECK(back.mean.values == s.mean.values);
    CHECK(back.scale.values == s.scale.values);

    kiln::ModelDescriptor other = tiny_model("other", 4);
    kiln::Model wrong_name(other);
    REQUIRE_THROWS_WITH(kiln::load_checkpoint(dir.file("tiny.safetensors"), wrong_name),
                        Contains("checkpoint of model 'tiny', not of 'other'"));
    kiln::ModelDescriptor wider = tiny_model("tiny", 5);
    kiln::Model wrong_shape(wider);
    REQUIRE_THROWS_WITH(kiln::load_checkpoint(dir.file("tiny.safetensors"), wrong_shape),
                        Contains("tensor 'w' is [3, 4]; the model expects [3, 5]"));
}

// A weight whose rows are a multiple of 2 KiB is stored padded in the arena (ParamSpec::row_stride):
// the file holds its values only, in PyTorch's shape, and loading leaves the padding zero.
TEST_CASE("checkpoints of a padded parameter hold its values only", "[runtime][checkpoint]") {
    TempDir dir;
    const kiln::ModelDescriptor d = tiny_model("padded", 512);
    REQUIRE(d.params[0].row_stride() == 560);
    kiln::Model model(d);
    for (std::size_t p = 0; p < d.params.size(); ++p) {
        float next = 1;
        for (float& v : model.params()[p]) v = next++;
    }
    kiln::save_checkpoint(dir.file("padded.safetensors"), model, kiln::Preprocessor::identity(3), 1, 0);
    const kiln::SafetensorsFile file = kiln::read_safetensors(dir.file("padded.safetensors"));
    const kiln::NamedTensor& w = file.tensors.at("w");
    CHECK(w.shape == std::vector<int64_t>{3, 512});
    REQUIRE(w.values.size() == 3u * 512u);
    for (std::size_t k = 0; k < w.values.size(); ++k) REQUIRE(w.values[k] == float(k + 1));

    kiln::Model restored(d);
    kiln::load_checkpoint(dir.file("padded.safetensors"), restored);
    CHECK(std::equal(model.params().all().begin(), model.params().all().end(), restored.params().all().begin()));
    for (int r = 0; r < 3; ++r)
        for (int c = 512; c < 560; ++c) REQUIRE(restored.params().storage(0)[std::size_t(r) * 560 + std::size_t(c)] == 0.0f);
}

namespace {
// A dense layer [3 → hidden] and a batch norm's running statistics, as the generator describes them.
kiln::ModelDescriptor dense_model(int hidden) {
    kiln::ModelDescriptor d = tiny_model("dense", hidden);
    d.params[0].name = "fc.weight";
    d.params[0].linear_weight = true;
    d.params[1].name = "fc.bias";
    d.states = {{"bn.running_mean", 1, hidden}, {"bn.running_var", 1, hidden, 0.1, 1.0, true}};
    return d;
}
}  // namespace

TEST_CASE("checkpoints hold PyTorch's layout: nn.Linear's [out × in], vectors, num_batches_tracked", "[runtime][checkpoint]") {
    TempDir dir;
    const kiln::ModelDescriptor d = dense_model(4);
    kiln::Model model(d);
    float next = 0;
    for (std::size_t p = 0; p < d.params.size(); ++p)
        for (float& v : model.params()[p]) v = next++;
    model.states()[0].values = {1, 2, 3, 4};
    const kiln::Preprocessor none = kiln::Preprocessor::identity(3);
    const std::string path = dir.file("c.safetensors");
    kiln::save_checkpoint(path, model, none, 2, 57);

    const kiln::SafetensorsFile file = kiln::read_safetensors(path);
    CHECK(file.metadata.at("layout") == "torch");
    const kiln::NamedTensor& weight = file.tensors.at("fc.weight");
    REQUIRE(weight.shape == std::vector<int64_t>{4, 3});  // [out × in]; kiln's arena holds [3 × 4]
    for (int out = 0; out < 4; ++out)
        for (int in = 0; in < 3; ++in) CHECK(weight.values[out * 3 + in] == model.params()[0][in * 4 + out]);
    CHECK(file.tensors.at("fc.bias").shape == std::vector<int64_t>{4});
    CHECK(file.tensors.at("bn.running_mean").shape == std::vector<int64_t>{4});
    CHECK(file.tensors.at("bn.running_mean").values == std::vector<float>{1, 2, 3, 4});
    const kiln::NamedTensor& counter = file.tensors.at("bn.num_batches_tracked");
    CHECK(counter.dtype == "I64");
    CHECK(counter.shape.empty());
    CHECK(counter.values == std::vector<float>{57});
    CHECK(file.tensors.count("bn.num_batches_tracked") == 1);  // one per batch norm, not per statistic

    kiln::Model restored(d);
    kiln::load_checkpoint(path, restored);
    CHECK(std::equal(model.params().all().begin(), model.params().all().end(), restored.params().all().begin()));
    CHECK(restored.states()[0].values == model.states()[0].values);

    // A checkpoint from before the marker (kiln's [in × out]) still loads, converted.
    kiln::SafetensorsFile old = file;
    old.metadata.erase("layout");
    old.tensors["fc.weight"] = {{3, 4}, {model.params()[0].begin(), model.params()[0].end()}};
    old.tensors["fc.bias"].shape = {1, 4};
    kiln::write_safetensors(dir.file("old.safetensors"), old);
    kiln::Model from_old(d);
    kiln::load_checkpoint(dir.file("old.safetensors"), from_old);
    CHECK(std::equal(model.params().all().begin(), model.params().all().end(), from_old.params().all().begin()));

    // A file in PyTorch's layout holding kiln's [in × out] is refused, saying which is which.
    kiln::SafetensorsFile swapped = old;
    kiln::mark_torch_layout(swapped);
    swapped.tensors["fc.bias"].shape = {4};
    kiln::write_safetensors(dir.file("swapped.safetensors"), swapped);
    kiln::Model refused(d);
    REQUIRE_THROWS_WITH(kiln::load_checkpoint(dir.file("swapped.safetensors"), refused),
                        Contains("swapped.safetensors") && Contains("tensor 'fc.weight' is [3, 4]") &&
                            Contains("expects [4, 3]") && Contains("as nn.Linear stores it"));
    swapped.metadata["layout"] = "tensorflow";
    kiln::write_safetensors(dir.file("unknown.safetensors"), swapped);
    REQUIRE_THROWS_WITH(kiln::load_checkpoint(dir.file("unknown.safetensors"), refused),
                        Contains("metadata 'layout' is 'tensorflow'"));
}

TEST_CASE("a square dense weight is read in the layout its file says", "[runtime][checkpoint]") {
    TempDir dir;
    const kiln::ModelDescriptor d = dense_model(3);  // fc.weight 3 × 3: the shape cannot tell
    const std::vector<float> rows{0, 1, 2, 3, 4, 5, 6, 7, 8}, transposed{0, 3, 6, 1, 4, 7, 2, 5, 8};
    auto load = [&](std::map<std::string, std::string> metadata) {
        kiln::SafetensorsFile file;
        file.metadata = std::move(metadata);
        file.tensors["fc.weight"] = {{3, 3}, rows};
        file.tensors["fc.bias"] = {{3}, {0, 0, 0}};
        file.tensors["bn.running_mean"] = {{3}, {0, 0, 0}};
        file.tensors["bn.running_var"] = {{3}, {1, 1, 1}};
        kiln::write_safetensors(dir.file("square.safetensors"), file);
        kiln::Model model(d);
        kiln::load_checkpoint(dir.file("square.safetensors"), model);
        return std::vector<float>(model.params()[0].begin(), model.params()[0].end());
    };
    // A state_dict PyTorch wrote (no metadata), or kiln's marker: [out × in], transposed into the arena.
    CHECK(load({}) == transposed);
    CHECK(load({{"format", "kiln"}, {"layout", "torch"}}) == transposed);
    // A kiln checkpoint from before the marker: kiln's own [in × out], as it was written.
    CHECK(load({{"format", "kiln"}}) == rows);
}

TEST_CASE("safetensors: I64 tensors are written as integers", "[runtime][checkpoint]") {
    TempDir dir;
    kiln::SafetensorsFile file;
    file.tensors["count"] = {{}, {123456}, "I64"};
    file.tensors["bad"] = {{1}, {1}, "BF16"};
    REQUIRE_THROWS_WITH(kiln::write_safetensors(dir.file("bad.safetensors"), file),
                        Contains("tensor 'bad'") && Contains("cannot write dtype BF16"));
    file.tensors.erase("bad");
    kiln::write_safetensors(dir.file("i64.safetensors"), file);
    const kiln::SafetensorsFile back = kiln::read_safetensors(dir.file("i64.safetensors"));
    CHECK(back.tensors.at("count").dtype == "I64");
    CHECK(back.tensors.at("count").values == std::vector<float>{123456});
}

// Issue 14's findings, each as the file that showed it: offsets that overflow the bounds check,
// offsets that point into the header, overlapping or non-contiguous tensors, inserted bytes,
// non-finite weights, and doubles beyond float's range.
TEST_CASE("safetensors: hostile offsets, overlaps, gaps and non-finite values are refused", "[runtime][checkpoint]") {
    TempDir dir;
    auto read = [&](const std::string& bytes) {
        kiln::test::write_text(dir.file("hostile.safetensors"), bytes);
        return kiln::read_safetensors(dir.file("hostile.safetensors"));
    };
    auto f32 = [](std::vector<uint64_t> offsets, int64_t count = 1) {
        return nlohmann::json{{"dtype", "F32"}, {"shape", {count}}, {"data_offsets", offsets}};
    };
    const std::string eight(8, '\0');
    // begin + length wraps around 2^64: the old check passed and the read segfaulted.
    const uint64_t near_top = std::numeric_limits<uint64_t>::max() - 2;
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"w", f32({near_top, near_top + 4})}}, eight)),
                        Contains("tensor 'w': data_offsets holds 18446744073709551613"));
    const uint64_t high = uint64_t(std::numeric_limits<int64_t>::max()) - 8;  // representable, far outside
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"w", f32({high, high + 4})}}, eight)),
                        Contains("tensor 'w'") && Contains("outside the data section"));
    // Found by the fuzzer: a float in the shape reached an integer conversion (2e30: undefined).
    REQUIRE_THROWS_WITH(
        read(raw_safetensors(nlohmann::json::parse(R"({"w":{"dtype":"F32","shape":[2e30],"data_offsets":[0,4]}})"),
                             eight)),
        Contains("tensor 'w': shape holds 2e+30, expected a whole number in [0, 2^63)"));
    REQUIRE_THROWS_WITH(
        read(raw_safetensors(nlohmann::json::parse(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})"),
                             eight)),
        Contains("shape holds 1.5"));
    // A negative offset in JSON reads as a huge unsigned one.
    REQUIRE_THROWS_WITH(
        read(raw_safetensors(nlohmann::json::parse(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})"),
                             eight)),
        Contains("tensor 'w'"));
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"a", f32({0, 4})}, {"b", f32({0, 4})}}, eight)),
                        Contains("overlaps another tensor"));
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"a", f32({4, 8})}}, eight)), Contains("a gap before it"));
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"a", f32({0, 4})}}, eight)),
                        Contains("cover 4 of the data section's 8 bytes"));
    REQUIRE_THROWS_WITH(
        read(raw_safetensors({{"a", {{"dtype", "F32"}, {"shape", {int64_t(1) << 62, 8}}, {"data_offsets", {0, 0}}}}},
                             "")),
        Contains("overflows"));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::string nan_bytes(4, '\0');
    std::memcpy(nan_bytes.data(), &nan, 4);
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"w", f32({0, 4})}}, nan_bytes)),
                        Contains("tensor 'w'") && Contains("NaN"));
    const double huge = 1e300;
    std::string huge_bytes(8, '\0');
    std::memcpy(huge_bytes.data(), &huge, 8);
    REQUIRE_THROWS_WITH(
        read(raw_safetensors({{"d", {{"dtype", "F64"}, {"shape", {1}}, {"data_offsets", {0, 8}}}}}, huge_bytes)),
        Contains("tensor 'd'") && Contains("infinite"));
    REQUIRE_THROWS_WITH(read(raw_safetensors({{"__metadata__", {{"epoch", 3}}}}, "")),
                        Contains("'epoch' is not a string"));
    REQUIRE_THROWS_WITH(kiln::read_safetensors(dir.path().string()), Contains("not a regular file"));
}

TEST_CASE("checkpoints: training metadata out of range and missing preprocessing are refused",
          "[runtime][checkpoint]") {
    TempDir dir;
    kiln::ModelDescriptor d = tiny_model("tiny", 4);
    kiln::Model model(d);
    kiln::Preprocessor s{"standardize", kiln::Tensor(1, 3, 2.0f), kiln::Tensor(1, 3, 0.25f), {}};
    kiln::TrainingProgress progress;
    progress.epoch = 3;
    progress.optimizer = "sgd";
    const std::string path = dir.file("tiny.safetensors");
    kiln::save_checkpoint(path, model, s, 3, progress.step, &progress);
    kiln::TrainingProgress back;
    kiln::Model restored(d);
    REQUIRE_NOTHROW(kiln::load_checkpoint(path, restored, &back));
    CHECK(back.epoch == 3);
    auto with = [&](const std::string& key, const std::string& value) {
        kiln::SafetensorsFile file = kiln::read_safetensors(path);
        file.metadata[key] = value;
        kiln::write_safetensors(dir.file("edited.safetensors"), file);
        return kiln::load_checkpoint(dir.file("edited.safetensors"), restored, &back);
    };
    REQUIRE_THROWS_WITH(with("epoch", "-1000000"), Contains("metadata 'epoch' is '-1000000'"));
    REQUIRE_THROWS_WITH(with("epoch", "1e99"), Contains("metadata 'epoch' is '1e99'"));
    REQUIRE_THROWS_WITH(with("step", "12abc"), Contains("metadata 'step'"));
    REQUIRE_THROWS_WITH(with("preprocess", "sharpen"), Contains("not a known preprocessing"));
    // Non-finite numbers only where a run writes them: no validation loss yet is infinite, an
    // unrecorded LR is NaN; a NaN optimizer scalar (a step count, NAdam's μ product) never.
    REQUIRE_THROWS_WITH(with("__optimizer.step", "nan"),
                        Contains("metadata '__optimizer.step' is 'nan', expected a finite number"));
    REQUIRE_THROWS_WITH(with("__optimizer.mu_product", "inf"), Contains("metadata '__optimizer.mu_product'"));
    REQUIRE_THROWS_WITH(with("best_validation_loss", "nan"), Contains("metadata 'best_validation_loss' is 'nan'"));
    REQUIRE_THROWS_WITH(with("lr", "-inf"), Contains("metadata 'lr' is '-inf'"));
    REQUIRE_THROWS_WITH(with("lr", "fast"), Contains("metadata 'lr' is 'fast', expected a number"));
    REQUIRE_NOTHROW(with("best_validation_loss", "inf"));
    REQUIRE_NOTHROW(with("lr", "nan"));

    kiln::SafetensorsFile file = kiln::read_safetensors(path);
    file.tensors.erase("__standardize.scale");
    kiln::write_safetensors(dir.file("stripped.safetensors"), file);
    REQUIRE_THROWS_WITH(kiln::load_checkpoint(dir.file("stripped.safetensors"), restored),
                        Contains("no tensor '__standardize.scale'") && Contains("'standardize' preprocessing"));
}

// Issue 14: kill -9 during a save left hidden temporaries forever; a replaced 0664 file became
// 0600; a symlinked checkpoint path was replaced by a plain file.
TEST_CASE("writes keep the replaced file's mode, write through symlinks and clean up crashed saves",
          "[runtime][checkpoint]") {
    namespace fs = std::filesystem;
    TempDir dir;
    kiln::SafetensorsFile file;
    file.tensors["a"] = {{2}, {1, 2}};
    const std::string path = dir.file("c.safetensors");
    kiln::write_safetensors(path, file);
    fs::permissions(path, fs::perms(0664));
    kiln::write_safetensors(path, file);
    CHECK((fs::status(path).permissions() & fs::perms::all) == fs::perms(0664));

    const std::string abandoned = dir.file(".c.safetensors.Ab12Cd"), live = dir.file(".c.safetensors.Xy34Zw");
    kiln::test::write_text(abandoned, "half a checkpoint");
    kiln::test::write_text(live, "a save in progress");
    const int held = ::open(live.c_str(), O_RDONLY);
    REQUIRE(::flock(held, LOCK_EX) == 0);
    kiln::write_safetensors(path, file);
    CHECK_FALSE(fs::exists(abandoned));
    CHECK(fs::exists(live));
    ::close(held);
    int others = 0;
    for (const auto& entry : fs::directory_iterator(dir.path()))
        others += entry.path().filename().string().starts_with(".c.");
    CHECK(others == 1);  // only the live one: no temporary of our own left behind

    fs::create_directory(dir.file("real"));
    fs::create_symlink(dir.file("real/target.safetensors"), dir.file("link.safetensors"));
    kiln::write_safetensors(dir.file("link.safetensors"), file);
    file.tensors["a"].values = {3, 4};
    kiln::write_safetensors(dir.file("link.safetensors"), file);
    CHECK(fs::is_symlink(dir.file("link.safetensors")));
    CHECK(kiln::read_safetensors(dir.file("real/target.safetensors")).tensors.at("a").values ==
          std::vector<float>{3, 4});
}
