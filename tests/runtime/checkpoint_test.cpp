// safetensors: round trips, conversions from other dtypes, atomic replacement, bad files, and
// checkpoints that belong to another model.
#include <catch2/catch.hpp>
#include <cstring>
#include <kiln/checkpoint.hpp>
#include <kiln/error.hpp>
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
    for (std::size_t i = 0; i < model.params().all().size(); ++i) model.params().all()[i] = float(i) * 0.5f;
    kiln::Preprocessor s{"standardize", kiln::Tensor(1, 3, 2.0f), kiln::Tensor(1, 3, 0.25f), {}};
    kiln::save_checkpoint(dir.file("tiny.safetensors"), model, s, 3);

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
                        Contains("tensor 'w'") && Contains("[3×5]"));
}
