// The model binaries as a user runs them: training reaches its accuracy, checkpoints reload, `grad`
// agrees with the DSL's double reference, and every kind of bad input is a clear error, not a crash.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <limits>
#include <fstream>
#include <kiln/checkpoint.hpp>
#include <kiln/dsl.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "../runtime/temp_dir.hpp"
#include "cli_helpers.hpp"
#include "digits_image/model.hpp"
#include "logistic_regression/model.hpp"
#include "two_layer_sigmoid/model.hpp"

using Catch::Contains;
using kiln::test::TempDir;
using kiln::test::write_gzip;
using kiln::test::write_text;
using namespace kiln::test;

namespace {

std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
void write_idx_dir(const TempDir& dir, uint8_t label, std::size_t truncate = 0) {
    std::string images = be32(0x803) + be32(2) + be32(28) + be32(28) + std::string(2 * 784, '\x10');
    for (const char* split : {"train", "t10k"}) {
        write_gzip(dir.file(std::string(split) + "-images-idx3-ubyte.gz"), images.substr(0, images.size() - truncate));
        write_gzip(dir.file(std::string(split) + "-labels-idx1-ubyte.gz"),
                   be32(0x801) + be32(2) + char(1) + char(label));
    }
}

enum class FileLayout { as_bound, transposed };

// A tensor of U(−1, 1) floats (or class ids below `classes`) in `file` and the same values bound in
// the reference context; `transposed` writes a matrix's transpose (a dense weight as nn.Linear
// stores it, [out × in], where the DSL binds [in × out]).
void add_random_tensor(kiln::SafetensorsFile& file, kiln::dsl::reference::Context& context, std::mt19937_64& rng,
                       const std::string& name, kiln::dsl::Shape shape, std::vector<int64_t> dims, int classes = 0,
                       FileLayout layout = FileLayout::as_bound) {
    std::uniform_real_distribution<double> value(-1, 1);
    kiln::dsl::reference::Matrix m(shape, 0.0);
    kiln::NamedTensor t{dims, std::vector<float>(m.values.size())};
    for (std::size_t i = 0; i < m.values.size(); ++i) {
        m.values[i] = classes ? double(rng() % unsigned(classes)) : double(float(value(rng)));
        const std::size_t row = i / shape.cols, col = i % shape.cols;
        t.values[layout == FileLayout::transposed ? col * shape.rows + row : i] = float(m.values[i]);
    }
    file.tensors[name] = t;
    context.bindings[name] = m;
}

// Every parameter's gradient in `grad`'s output against the DSL's double reference:
// |got − expected| ≤ absolute + relative·|expected|. The output speaks PyTorch's layout: a dense
// weight [in × out] is written [out × in], a [1 × n] vector as [n].
template <class Network>
void check_gradients_written(const kiln::SafetensorsFile& result, Network network,
                             const kiln::dsl::reference::Context& context, double absolute, double relative) {
    auto gradients = kiln::dsl::grad(network.loss);
    boost::hana::for_each(kiln::dsl::parameters(network.loss), [&](auto t) {
        using Op = typename kiln::dsl::node_of<decltype(t)>::op;
        constexpr kiln::dsl::Shape shape = Op::shape();
        const std::string name(Op::name);
        const bool dense_weight = !shape.image() && shape.rows > 1 && name.ends_with(".weight");
        const std::vector<int64_t> torch_shape = dense_weight     ? std::vector<int64_t>{shape.cols, shape.rows}
                                                 : shape.rows == 1 && !shape.image() ? std::vector<int64_t>{shape.cols}
                                                                                    : std::vector<int64_t>{};
        auto expected = kiln::dsl::evaluate(gradients[kiln::dsl::name<Op::fixed_name>], context);
        const kiln::NamedTensor& written = result.tensors.at(name);
        INFO(name);
        if (!torch_shape.empty()) CHECK(written.shape == torch_shape);
        const auto& got = written.values;
        REQUIRE(got.size() == expected.values.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            const std::size_t row = i / shape.cols, col = i % shape.cols;
            const float value = got[dense_weight ? col * shape.rows + row : i];
            CHECK(std::abs(value - expected.values[i]) <= absolute + relative * std::abs(expected.values[i]));
        }
    });
}

// `model grad` with `batch`'s 'y' replaced by zeros of `shape` except element 1, `bad_value`: it
// must refuse the batch with `message` (params.safetensors in `dir` holds the parameters).
void require_labels_refused(const std::string& model, const TempDir& dir, kiln::SafetensorsFile batch,
                            std::vector<int64_t> shape, float bad_value, const std::string& message) {
    batch.tensors["y"].shape = shape;
    batch.tensors["y"].values.assign(std::size_t(shape[0] * (shape.size() > 1 ? shape[1] : 1)), 0.0f);
    batch.tensors["y"].values[1] = bad_value;
    kiln::write_safetensors(dir.file("bad_labels.safetensors"), batch);
    require_refused(run(model + " grad --params " + dir.file("params.safetensors") + " --batch " +
                        dir.file("bad_labels.safetensors") + " --output " + dir.file("unwritten.safetensors")),
                    message);
}

}  // namespace

TEST_CASE("logistic regression trains on breast cancer, and its checkpoint evaluates the same", "[e2e]") {
    TempDir dir;
    Run trained = run(binary("logistic_regression") + " train --data " + data("breast_cancer.csv") +
                      " --epochs 30 --batch 32 --optimizer sgd --lr 0.05 --seed 1 --metrics " + dir.file("m.jsonl") +
                      " --checkpoint " + dir.file("c.safetensors"));
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    nlohmann::json summary = last_json_line(trained.output);
    CHECK(summary["val_accuracy"].get<double>() >= 0.95);

    std::ifstream metrics(dir.file("m.jsonl"));
    std::string line;
    int epochs = 0;
    while (std::getline(metrics, line)) {
        auto record = nlohmann::json::parse(line);
        CHECK(record["epoch"] == ++epochs);
        for (const char* key : {"train_loss", "val_loss", "val_accuracy", "seconds"}) CHECK(record.contains(key));
    }
    CHECK(epochs == 30);

    Run evaluated = run(binary("logistic_regression") + " eval --data " + data("breast_cancer.csv") + " --checkpoint " +
                        dir.file("c.safetensors"));
    REQUIRE(evaluated.status == 0);
    nlohmann::json e = last_json_line(evaluated.output);
    CHECK(e["accuracy"].get<double>() == Approx(summary["val_accuracy"].get<double>()));
    CHECK(e["loss"].get<double>() == Approx(summary["val_loss"].get<double>()).epsilon(1e-6));

    Run predicted = run(binary("logistic_regression") + " predict --data " + data("breast_cancer.csv") +
                        " --checkpoint " + dir.file("c.safetensors") + " --output " + dir.file("p.csv"));
    REQUIRE(predicted.status == 0);
    std::ifstream predictions(dir.file("p.csv"));
    std::getline(predictions, line);
    CHECK(line == "index,label,predicted,p0");
    int rows = 0, right = 0;
    while (std::getline(predictions, line)) {
        ++rows;
        int index, label, guess;
        std::sscanf(line.c_str(), "%d,%d,%d", &index, &label, &guess);
        right += label == guess;
    }
    CHECK(rows == e["samples"].get<int>());
    CHECK(double(right) / rows == Approx(e["accuracy"].get<double>()));
}

TEST_CASE("the same seed gives the same model, bit for bit", "[e2e]") {
    TempDir dir;
    for (const char* name : {"a", "b"})
        REQUIRE(run(binary("two_layer_sigmoid") + " train --no-progress --data " + data("breast_cancer.csv") +
                    " --epochs 3 --seed 9 --checkpoint " + dir.file(std::string(name) + ".safetensors"))
                    .status == 0);
    auto a = kiln::read_safetensors(dir.file("a.safetensors")), b = kiln::read_safetensors(dir.file("b.safetensors"));
    for (const auto& [name, tensor] : a.tensors) CHECK(tensor.values == b.tensors.at(name).values);
}

TEST_CASE("the learning-rate schedule drives the optimizer, and the metrics record it", "[e2e]") {
    TempDir dir;
    Run trained = run(binary("logistic_regression") + " train --no-progress --data " + data("breast_cancer.csv") +
                      " --epochs 4 --optimizer sgd --lr 0.05 --schedule step --step-epochs 2 --gamma 0.5 --metrics " +
                      dir.file("m.jsonl"));
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    std::ifstream metrics(dir.file("m.jsonl"));
    std::vector<double> rates;
    for (std::string line; std::getline(metrics, line);)
        rates.push_back(nlohmann::json::parse(line)["lr"].get<double>());
    REQUIRE(rates.size() == 4);
    CHECK(rates[0] == Approx(0.05));
    CHECK(rates[1] == Approx(0.05));
    CHECK(rates[2] == Approx(0.025));
    CHECK(rates[3] == Approx(0.025));
    require_refused(
        run(binary("logistic_regression") + " train --data " + data("breast_cancer.csv") + " --schedule sawtooth"),
        "--schedule: sawtooth not in");
    require_refused(run(binary("logistic_regression") + " train --data " + data("breast_cancer.csv") +
                        " --schedule triangular --max-lr 0.0001"),
                    "--max-lr");
}

TEST_CASE("two-layer sigmoid network trains on breast cancer", "[e2e]") {
    Run trained = run(binary("two_layer_sigmoid") + " train --data " + data("breast_cancer.csv") +
                      " --epochs 40 --batch 32 --lr 0.01 --seed 2");
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    CHECK(last_json_line(trained.output)["val_accuracy"].get<double>() >= 0.93);
}

TEST_CASE("grad writes the loss and every gradient, matching the double-precision reference", "[e2e]") {
    TempDir dir;
    constexpr int n = 7;
    std::mt19937_64 rng(3);
    kiln::dsl::reference::Context context;
    context.batch = n;
    kiln::SafetensorsFile params, batch;
    auto add = [&](kiln::SafetensorsFile& file, const std::string& name, int rows, int cols, int classes = 0) {
        add_random_tensor(file, context, rng, name, {rows, cols}, {rows, cols}, classes);
    };
    // Parameters in kiln's own layout, as checkpoints held them before PyTorch's: still read.
    params.metadata["format"] = "kiln";
    add(params, "hidden.weight", 30, 16);
    add(params, "hidden.bias", 1, 16);
    add(params, "output.weight", 16, 1);
    add(params, "output.bias", 1, 1);
    add(batch, "x", n, 30);
    add(batch, "y", n, 1, 2);
    kiln::write_safetensors(dir.file("params.safetensors"), params);
    kiln::write_safetensors(dir.file("batch.safetensors"), batch);
    Run r = run(binary("two_layer_sigmoid") + " grad --params " + dir.file("params.safetensors") + " --batch " +
                dir.file("batch.safetensors") + " --output " + dir.file("grad.safetensors"));
    INFO(r.output);
    REQUIRE(r.status == 0);
    auto result = kiln::read_safetensors(dir.file("grad.safetensors"));
    constexpr auto network = two_layer_sigmoid::network;
    const double loss = kiln::dsl::evaluate(network.loss, context)(0, 0);
    CHECK(std::abs(result.tensors.at("loss").values[0] - loss) <= 1e-5 + 1.3e-6 * std::abs(loss));
    check_gradients_written(result, network, context, 1e-5, 1.3e-6);

    // Targets as the loss reads them, or refused.
    auto refused_labels = [&](std::vector<int64_t> shape, float bad_value, const std::string& message) {
        require_labels_refused(binary("two_layer_sigmoid"), dir, batch, shape, bad_value, message);
    };
    // (two_layer_sigmoid's loss is binary cross-entropy: its targets are probabilities.)
    refused_labels({n, 1}, 3.7f, "target 'y' of sample 1 is 3.7: binary cross-entropy needs a probability in [0, 1]");
    refused_labels({n, 1}, -1.0f, "target 'y' of sample 1 is -1");
    refused_labels({n, 2}, 0.0f, "tensor 'y' must be [7×1], found [7×2]");
}

TEST_CASE("an image model trains, checkpoints its tensors at their rank, and grad reads and writes rank 4", "[e2e]") {
    TempDir dir;
    const std::string model = binary("digits_image");
    Run trained = run(model + " train --data " + data("digits.csv.gz") +
                      " --epochs 8 --batch 32 --lr 0.01 --seed 1 --checkpoint " + dir.file("c.safetensors"));
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    CHECK(last_json_line(trained.output)["val_accuracy"].get<double>() >= 0.9);
    auto checkpoint = kiln::read_safetensors(dir.file("c.safetensors"));
    CHECK(checkpoint.tensors.at("gain").shape == std::vector<int64_t>{1, 1, 8, 8});
    CHECK(checkpoint.tensors.at("hidden.weight").shape == std::vector<int64_t>{64, 64});
    CHECK(checkpoint.tensors.at("output.weight").shape == std::vector<int64_t>{10, 64});  // nn.Linear(64, 10)
    CHECK(checkpoint.tensors.at("bn.running_mean").shape == std::vector<int64_t>{1});
    CHECK(checkpoint.tensors.at("bn.num_batches_tracked").dtype == "I64");
    CHECK(checkpoint.metadata.at("layout") == "torch");
    Run evaluated = run(model + " eval --data " + data("digits.csv.gz") + " --checkpoint " + dir.file("c.safetensors"));
    REQUIRE(evaluated.status == 0);

    Run summary = run(model + " summary");
    REQUIRE(summary.status == 0);
    CHECK_THAT(summary.output, Contains("input x [N×1×8×8]"));
    CHECK_THAT(summary.output, Contains("[1×1×8×8]"));
    CHECK_THAT(summary.output, Contains("flatten("));

    // grad: the batch's images at full rank, the gradients at their parameters' rank, the values
    // those of the double reference (training mode: batch statistics).
    constexpr int n = 5;
    std::mt19937_64 rng(9);
    kiln::dsl::reference::Context context;
    context.batch = n;
    kiln::SafetensorsFile params, batch;
    auto add = [&](kiln::SafetensorsFile& file, const std::string& name, kiln::dsl::Shape shape,
                   std::vector<int64_t> dims,
                   int classes = 0, FileLayout layout = FileLayout::as_bound) {
        add_random_tensor(file, context, rng, name, shape, dims, classes, layout);
    };
    // Parameters as PyTorch's modules hold them (no metadata, as a state_dict saved by PyTorch):
    // the square hidden.weight is read transposed, which only the layout can tell.
    add(params, "gain", kiln::dsl::image_shape(1, 1, 8, 8), {1, 1, 8, 8});
    add(params, "bn.weight", {1, 1}, {1});
    add(params, "bn.bias", {1, 1}, {1});
    add(params, "hidden.weight", {64, 64}, {64, 64}, 0, FileLayout::transposed);
    add(params, "hidden.bias", {1, 64}, {64});
    add(params, "output.weight", {64, 10}, {10, 64}, 0, FileLayout::transposed);
    add(params, "output.bias", {1, 10}, {10});
    add(params, "bn.running_mean", {1, 1}, {1});  // read with the parameters; unused while training
    add(params, "bn.running_var", {1, 1}, {1}, 3);
    add(batch, "x", kiln::dsl::image_shape(n, 1, 8, 8), {n, 1, 8, 8});
    add(batch, "y", {n, 1}, {n, 1}, 10);
    kiln::write_safetensors(dir.file("params.safetensors"), params);
    kiln::write_safetensors(dir.file("batch.safetensors"), batch);
    Run r = run(model + " grad --params " + dir.file("params.safetensors") + " --batch " +
                dir.file("batch.safetensors") + " --output " + dir.file("grad.safetensors"));
    INFO(r.output);
    REQUIRE(r.status == 0);
    auto result = kiln::read_safetensors(dir.file("grad.safetensors"));
    CHECK(result.tensors.at("gain").shape == std::vector<int64_t>{1, 1, 8, 8});
    check_gradients_written(result, digits_image::network, context, 1e-4, 1e-5);

    batch.tensors["x"].shape = {n, 63};
    batch.tensors["x"].values.resize(n * 63);
    kiln::write_safetensors(dir.file("bad.safetensors"), batch);
    require_refused(run(model + " grad --params " + dir.file("params.safetensors") + " --batch " +
                        dir.file("bad.safetensors") + " --output " + dir.file("g2.safetensors")),
                    "tensor 'x' must be [N×1×8×8] or [N×64]");

    // Class ids: whole numbers in range, one per sample; converting 3.7 or 1e10 to an integer
    // would train on a label nobody wrote.
    batch.tensors["x"].shape = {n, 1, 8, 8};  // a good input again (x was cut to 63 features above)
    batch.tensors["x"].values.resize(n * 64);
    auto refused_labels = [&](std::vector<int64_t> shape, float bad_value, const std::string& message) {
        require_labels_refused(model, dir, batch, shape, bad_value, message);
    };
    refused_labels({n, 1}, 3.7f, "tensor 'y': element 1 is 3.7, expected a class id 0..9");
    refused_labels({n}, 1e10f, "tensor 'y': element 1 is 10000000000, expected a class id 0..9");
    refused_labels({n, 1}, -1.0f, "tensor 'y': element 1 is -1");
    refused_labels({n, 2}, 0.0f, "tensor 'y' must be [5] (one class id per sample), found [5×2]");
}

TEST_CASE("a convolutional network trains on the digits images and its checkpoint evaluates the same", "[e2e]") {
    TempDir dir;
    const std::string model = binary("digits_cnn");
    Run trained = run(model + " train --data " + data("digits.csv.gz") +
                      " --epochs 10 --batch 32 --lr 0.01 --seed 3 --checkpoint " + dir.file("c.safetensors"));
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    const nlohmann::json summary = last_json_line(trained.output);
    CHECK(summary["val_accuracy"].get<double>() >= 0.9);
    auto checkpoint = kiln::read_safetensors(dir.file("c.safetensors"));
    CHECK(checkpoint.tensors.at("conv2.weight").shape == std::vector<int64_t>{32, 16, 3, 3});  // PyTorch's layout
    Run evaluated = run(model + " eval --data " + data("digits.csv.gz") + " --checkpoint " + dir.file("c.safetensors"));
    REQUIRE(evaluated.status == 0);
    CHECK(last_json_line(evaluated.output)["accuracy"].get<double>() == Approx(summary["val_accuracy"].get<double>()));
    // conv2's output (32 channels on 4×4) is saved channels innermost, conv1's (8×8 from one channel: summed
    // along x) is not (codegen/layout.hpp); summary says which.
    Run described = run(model + " summary");
    REQUIRE(described.status == 0);
    CHECK_THAT(described.output, Contains("[N×32×4×4] NHWC") && Contains("[N×16×8×8] = "));
}

TEST_CASE("summary shows parameters and the derived gradient formulas", "[e2e]") {
    Run r = run(binary("logistic_regression") + " summary");
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Contains("total 31 parameters"));
    // What the formulas share, once: the product (saved: the backward stage adds the bias again
    // rather than read a saved logit), the logit, then the loss's adjoint the two gradients read.
    CHECK_THAT(r.output, Contains("t1 = x · w\n") && Contains("t2 = t1 + b") && Contains("t3 = (σ(t2) − y) / N"));
    CHECK_THAT(r.output, Contains("∂loss/∂w = xᵀ · t3") && Contains("∂loss/∂b = sum_rows(t3)"));
    CHECK_THAT(r.output, Contains("saved_0 [N×1] = t1"));
    Run expanded = run(binary("logistic_regression") + " summary --expanded");
    REQUIRE(expanded.status == 0);
    CHECK_THAT(expanded.output, Contains("∂loss/∂w = xᵀ · ((σ(x · w + b) − y) / N)") && !Contains("t1 ="));
    Run help = run(binary("fashion_mlp") + " train --help");
    REQUIRE(help.status == 0);
    CHECK_THAT(help.output, Contains("--optimizer"));
}

TEST_CASE("bad flags and bad data are refused with a message naming what is wrong", "[e2e]") {
    TempDir dir;
    const std::string lr = binary("logistic_regression"), cancer = " --data " + data("breast_cancer.csv");
    require_refused(run(lr + " train" + cancer + " --optimizer adabelief"), "--optimizer: adabelief not in");
    require_refused(run(lr + " train" + cancer + " --epochs 0"), "--epochs");
    require_refused(run(lr + " train" + cancer + " --lr -1"), "--lr");
    require_refused(run(lr + " train" + cancer + " --batch many"), "--batch");
    require_refused(run(lr + " train --data " + dir.file("absent.csv")), "absent.csv: no such file or directory");
    require_refused(run(lr + " train --data " + data("iris.csv")), "expects 30 features per sample, the data has 4");
    require_refused(run(lr + " frobnicate"), "frobnicate");

    std::string header = "4,30,a,b\n", row;
    for (int i = 0; i < 30; ++i) row += "1.5,";
    write_text(dir.file("nan.csv"),
               header + row + "0\n" + row + "1\n" + row + "0\n" + row.substr(0, row.size() - 4) + "nan,1\n");
    require_refused(run(lr + " train --data " + dir.file("nan.csv")), "line 5, field 30: value is NaN");
    write_text(dir.file("three.csv"), "4,30,a,b,c\n" + row + "0\n" + row + "2\n" + row + "1\n" + row + "0\n");
    require_refused(run(lr + " train --data " + dir.file("three.csv")), "label 2 is not a probability");
    write_text(dir.file("ragged.csv"), header + row + "0\n" + row + "1\n" + "1,2\n" + row + "0\n");
    require_refused(run(lr + " train --data " + dir.file("ragged.csv")), "ragged.csv: line 4: expected 31 fields");

    TempDir idx;
    write_idx_dir(idx, 12);
    require_refused(run(binary("fashion_mlp") + " train --data " + idx.path().string()),
                    "label 12 is out of range: model 'fashion_mlp' has classes 0..9");
    TempDir truncated;
    write_idx_dir(truncated, 3, 100);
    require_refused(run(binary("fashion_mlp") + " train --data " + truncated.path().string()), "truncated");

    // Issue 14: an empty test split was evaluated as loss 0 with exit 0; a missing --snapshot-dir or
    // --checkpoint directory was reported only at the first save, after an epoch of work.
    TempDir empty_test;
    write_idx_dir(empty_test, 3);
    write_gzip(empty_test.file("t10k-images-idx3-ubyte.gz"), be32(0x803) + be32(0) + be32(28) + be32(28));
    write_gzip(empty_test.file("t10k-labels-idx1-ubyte.gz"), be32(0x801) + be32(0));
    require_refused(run(binary("fashion_mlp") + " train --data " + empty_test.path().string()),
                    "no samples to validate on");
    require_refused(run(lr + " train" + cancer + " --checkpoint " + dir.file("absent/c.safetensors")),
                    "--checkpoint: directory " + dir.file("absent") + " does not exist");
    require_refused(run(lr + " train --data /dev/zero"), "/dev/zero: not a regular file");
    require_refused(run(lr + " train" + cancer + " --snapshot-dir " + dir.file("absent")),
                    "--snapshot-dir: directory " + dir.file("absent") + " does not exist");
}

// Issue 14: NaN passed CLI11's range checks (every comparison with NaN is false) and silently turned
// the option off; a checkpoint with a NaN weight was evaluated to "loss": null with exit 0.
TEST_CASE("NaN flags and non-finite checkpoint weights are refused", "[e2e]") {
    TempDir dir;
    const std::string lr = binary("logistic_regression"), cancer = " --data " + data("breast_cancer.csv");
    require_refused(run(lr + " train" + cancer + " --val-split nan"), "--val-split: nan is not a number in [0, 0.99]");
    require_refused(run(lr + " train" + cancer + " --clip-norm nan"), "--clip-norm: nan is not a non-negative number");
    require_refused(run(lr + " train" + cancer + " --lr inf"), "--lr: inf is not a positive number");
    REQUIRE(
        run(lr + " train --no-progress" + cancer + " --epochs 1 --checkpoint " + dir.file("lr.safetensors")).status ==
        0);
    std::ifstream in(dir.file("lr.safetensors"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(bytes.data() + bytes.size() - 4, &nan, 4);  // the last tensor's last value
    write_text(dir.file("nan.safetensors"), bytes);
    require_refused(run(lr + " eval" + cancer + " --checkpoint " + dir.file("nan.safetensors")), "is NaN");
}

TEST_CASE("checkpoints that are missing, corrupt or of another model are refused", "[e2e]") {
    TempDir dir;
    const std::string lr = binary("logistic_regression"), cancer = " --data " + data("breast_cancer.csv");
    require_refused(run(lr + " eval" + cancer + " --checkpoint " + dir.file("none.safetensors")),
                    "none.safetensors: cannot open safetensors file: file not found");
    write_text(dir.file("junk.safetensors"), "this is not a checkpoint");
    require_refused(run(lr + " eval" + cancer + " --checkpoint " + dir.file("junk.safetensors")), "junk.safetensors");
    REQUIRE(run(binary("two_layer_sigmoid") + " train --no-progress" + cancer + " --epochs 1 --checkpoint " +
                dir.file("other.safetensors"))
                .status == 0);
    require_refused(run(lr + " eval" + cancer + " --checkpoint " + dir.file("other.safetensors")),
                    "checkpoint of model 'two_layer_sigmoid', not of 'logistic_regression'");
    require_refused(run(lr + " grad --params " + dir.file("other.safetensors") + " --batch x --output y"),
                    "checkpoint of model 'two_layer_sigmoid'");
}

TEST_CASE("fashion_mlp reaches 0.88 test accuracy within 10 epochs", "[e2e][fashion]") {
    Run trained = run(binary("fashion_mlp") + " train --no-progress --data " + std::string(KILN_FASHION_MNIST) +
                      " --epochs 10 --batch 128 --optimizer adam --lr 0.001 --seed 0");
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    CHECK(last_json_line(trained.output)["val_accuracy"].get<double>() >= 0.88);
}

TEST_CASE("fashion_cnn trains on Fashion-MNIST, reloads, predicts and passes gradcheck", "[e2e][fashion]") {
    TempDir dir;
    const std::string model = binary("fashion_cnn"), fashion = " --data " + std::string(KILN_FASHION_MNIST);
    Run trained =
        run(model + " train --no-progress" + fashion +
            " --epochs 1 --batch 128 --optimizer adam --lr 0.001 --preprocess channel --seed 0 --checkpoint " +
            dir.file("c.safetensors"));
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    const double accuracy = last_json_line(trained.output)["val_accuracy"].get<double>();
    CHECK(accuracy >= 0.85);  // one epoch; the 10-epoch figures are in bench/README.md
    auto checkpoint = kiln::read_safetensors(dir.file("c.safetensors"));
    CHECK(checkpoint.tensors.at("conv2.weight").shape == std::vector<int64_t>{64, 32, 3, 3});  // PyTorch's layout
    Run evaluated = run(model + " eval" + fashion + " --checkpoint " + dir.file("c.safetensors"));
    REQUIRE(evaluated.status == 0);
    CHECK(last_json_line(evaluated.output)["accuracy"].get<double>() == Approx(accuracy));
    Run predicted = run(model + " predict" + fashion + " --checkpoint " + dir.file("c.safetensors") + " --output " +
                        dir.file("p.csv"));
    REQUIRE(predicted.status == 0);
    std::ifstream predictions(dir.file("p.csv"));
    std::string line;
    int rows = 0;
    while (std::getline(predictions, line)) ++rows;
    CHECK(rows == 10001);  // a header and the 10,000 test images
    Run checked = run(model + " gradcheck" + fashion + " --checkpoint " + dir.file("c.safetensors") +
                      " --batch 8 --directions 2 --seed 1");
    INFO(checked.output);
    CHECK(checked.status == 0);
    CHECK_THAT(checked.output, Contains("gradcheck passed") && Contains("conv1.weight"));
    // A fresh initialization with the command's defaults (batch 16): the first layer's float32
    // loss is rough (ReLU and max-pool kinks), its raw errors up to 2%, all within the slope
    // estimates' own uncertainty (kiln/train/gradcheck.hpp).
    Run fresh = run(model + " gradcheck" + fashion + " --seed 4");
    INFO(fresh.output);
    CHECK(fresh.status == 0);
}

TEST_CASE("bench times every stage and relates it to the machine's FMA peak", "[e2e]") {
    Run r = run(binary("fashion_mlp") + " bench --batch 64 --iterations 5");
    INFO(r.output);
    REQUIRE(r.status == 0);
    nlohmann::json result = last_json_line(r.output);
    CHECK(
        (result["scheduler"] == "default" || result["scheduler"] == "tuned"));  // tuned: examples/schedules has a plan
    CHECK(result["peak_gflops"].get<double>() > 1);
    // fashion_mlp has backward_adam (FUSED_OPTIMIZERS adam): the step with it is timed too.
    REQUIRE(result["stages"].size() == 7);
    CHECK(result["stages"][6]["stage"] == "train_step_fused");
    for (const auto& stage : result["stages"]) {
        INFO(stage.dump());
        CHECK(stage["milliseconds"].get<double>() > 0);
        CHECK((stage["gflops"].get<double>() > 0) == (stage["stage"] != "adam_update"));  // the optimizer does no GEMM
        CHECK(stage["percent_of_peak"].get<double>() < 150);  // a FLOP count or a peak far off would show here
    }
}

TEST_CASE("a binary on a CPU without its kernels' features names them and how to rebuild", "[e2e]") {
    const std::string model = binary("logistic_regression");
    Run summary = run(model + " summary");
    REQUIRE(summary.status == 0);
    CHECK_THAT(summary.output, Contains("kernels for ") && Contains("this CPU's best tier: "));
    // Checked before any kernel (or the Halide runtime) runs: even `eval` of a file that is not there.
    const std::string lacking = "KILN_PRETEND_CPU_LACKS=sse41,avx,f16c,fma,avx2,avx512,avx512_skylake ";
    Run refused = run(lacking + model + " eval --data missing.csv --checkpoint missing.safetensors");
    require_refused(refused, "this CPU lacks ");
    CHECK_THAT(refused.output, Contains("sse41") && Contains("model 'logistic_regression'") &&
                                   Contains("-DKILN_HALIDE_TARGET=x86-64-linux") && !Contains("missing.csv"));
    Run help = run(lacking + model + " --help");  // parsing needs no kernel
    CHECK(help.status == 0);
}
