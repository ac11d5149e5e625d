// Data-parallel training under mpirun (label mpi): two ranks on this machine give the parameters
// one process gives with the same global batch; uneven batches; checkpoints that resume across
// rank counts; sharded evaluation; and failures on one rank that end the whole job, quickly.
#include <catch2/catch.hpp>
#include <kiln/safetensors.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "../runtime/temp_dir.hpp"
#include "cli_helpers.hpp"

using kiln::test::binary;
using kiln::test::data;
using kiln::test::last_json_line;
using kiln::test::Run;
using kiln::test::run;
using kiln::test::TempDir;

namespace {

// --oversubscribe: three ranks on a two-core machine (a CI machine may count its slots lower).
std::string mpirun(int ranks) {
    return std::string(KILN_MPIEXEC) + " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " ";
}

const std::string model = binary("two_layer_sigmoid");  // no dropout, no batch norm
// breast_cancer.csv: 456 training samples; --batch 46 makes 10 steps an epoch (the last of 42).
std::string train_flags(const std::string& optimizer, int epochs = 5, int batch = 46) {
    return " train --no-progress --data " + data("breast_cancer.csv") + " --epochs " + std::to_string(epochs) +
           " --batch " + std::to_string(batch) + " --seed 4 --optimizer " + optimizer;
}

// The largest, over a checkpoint's parameters, of max|a − b| / max|b|: the summation order of a
// batch split over ranks differs from one process's, so the two agree to float rounding.
double relative_difference(const std::string& path_a, const std::string& path_b) {
    const kiln::SafetensorsFile a = kiln::read_safetensors(path_a), b = kiln::read_safetensors(path_b);
    double worst = 0;
    for (const auto& [name, tensor] : b.tensors) {
        if (name.rfind("__", 0) == 0) continue;  // preprocessing statistics: computed by rank 0 alone
        const auto& other = a.tensors.at(name).values;
        REQUIRE(other.size() == tensor.values.size());
        double largest = 0, difference = 0;
        for (std::size_t i = 0; i < tensor.values.size(); ++i) {
            largest = std::max(largest, std::abs(double(tensor.values[i])));
            difference = std::max(difference, std::abs(double(other[i]) - tensor.values[i]));
        }
        if (largest > 0) worst = std::max(worst, difference / largest);
    }
    return worst;
}

long count_of(const std::string& text, const std::string& piece) {
    long n = 0;
    for (std::size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1)) ++n;
    return n;
}

std::string last_line(const std::string& path) {
    std::ifstream file(path);
    std::string line, last;
    while (std::getline(file, line))
        if (!line.empty()) last = line;
    return last;
}

}  // namespace

TEST_CASE("after 50 steps, 2 ranks hold the parameters one process computes with the same global batch",
          "[mpi]") {
    // SGD with momentum, Adam, and LAMB with global-norm clipping (its trust ratios and the
    // clipping norm must see the global gradient, not a rank's).
    for (const std::string optimizer : {"momentum --momentum 0.9 --lr 0.05", "adam --lr 0.003",
                                        "lamb --lr 0.01 --clip-norm 0.5"}) {
        DYNAMIC_SECTION(optimizer) {
            TempDir dir;
            const Run alone = run(model + train_flags(optimizer) + " --checkpoint " + dir.file("one.safetensors"));
            INFO(alone.output);
            REQUIRE(alone.status == 0);
            const Run job = run(mpirun(2) + model + train_flags(optimizer) + " --checkpoint " +
                                dir.file("two.safetensors") + " --metrics " + dir.file("metrics.jsonl"));
            INFO(job.output);
            REQUIRE(job.status == 0);
            CHECK(count_of(job.output, "\"model\":") == 1);  // rank 0 alone prints the summary
            const nlohmann::json record = nlohmann::json::parse(last_line(dir.file("metrics.jsonl")));
            CHECK(record["step"] == 50);
            CHECK(record["ranks"] == 2);
            CHECK(record["step_ms"].contains("allreduce"));
            const double difference = relative_difference(dir.file("two.safetensors"), dir.file("one.safetensors"));
            INFO("largest relative difference " << difference);
            CHECK(difference <= 1e-5);
            CHECK(last_json_line(job.output)["val_loss"].get<double>() ==
                  Approx(last_json_line(alone.output)["val_loss"].get<double>()).epsilon(1e-4));
        }
    }
}

TEST_CASE("a global batch that does not divide among the ranks weights each rank by its rows", "[mpi]") {
    TempDir dir;
    // 45 rows: 23 + 22 on 2 ranks, the last batch of 6 split 3 + 3; 2 rows on 3 ranks: one rank
    // has none at every step and still takes part in every allreduce.
    for (auto [ranks, batch, epochs] : {std::tuple{2, 45, 5}, std::tuple{3, 2, 1}}) {
        INFO(ranks << " ranks, --batch " << batch);
        const std::string flags = train_flags("momentum --momentum 0.9 --lr 0.02", epochs, batch);
        REQUIRE(run(model + flags + " --checkpoint " + dir.file("one.safetensors")).status == 0);
        const Run job = run(mpirun(ranks) + model + flags + " --checkpoint " + dir.file("job.safetensors"));
        INFO(job.output);
        REQUIRE(job.status == 0);
        const double difference = relative_difference(dir.file("job.safetensors"), dir.file("one.safetensors"));
        INFO("largest relative difference " << difference);
        CHECK(difference <= 1e-5);
    }
}

TEST_CASE("a batch-norm model on 2 ranks, one of them idle, equals one process with every writing flag on", "[mpi]") {
    // --batch 1 on 2 ranks: rank 0 computes every step as one process does and rank 1 adds zeros,
    // so everything is bit-identical — parameters, running statistics (rank 1 folded no batch in:
    // its weight in their average is 0), preprocessing, best checkpoint, snapshots — while every
    // collective, the hold-out's test evaluation and each file rank 0 alone writes are exercised.
    TempDir dir;
    const std::string image = binary("digits_image");
    auto flags = [&](const std::string& name) {
        const std::string at = dir.file(name);
        std::filesystem::create_directories(at);
        return " train --no-progress --data " + data("digits.csv.gz") +
               " --image-shape 1,8,8 --epochs 3 --batch 1 --seed 3 --optimizer adam --lr 0.001 --val-split 0.2 "
               "--patience 1 --schedule cosine_restarts --period-epochs 1 --checkpoint " + at +
               "/last.safetensors --best-checkpoint " + at + "/best.safetensors --snapshot-dir " + at +
               " --metrics " + at + "/metrics.jsonl";
    };
    const Run alone = run(image + flags("one")), job = run(mpirun(2) + image + " --check-collectives" + flags("two"));
    INFO(job.output);
    REQUIRE(alone.status == 0);
    REQUIRE(job.status == 0);
    const nlohmann::json one = last_json_line(alone.output), two = last_json_line(job.output);
    CHECK(two["test_accuracy"] == one["test_accuracy"]);
    REQUIRE(one["snapshots"].size() >= 2);  // the rate's minima and the last step, unless stopped early
    CHECK(two["snapshots"].size() == one["snapshots"].size());
    std::vector<std::string> files{"last.safetensors", "best.safetensors"};
    for (const nlohmann::json& snapshot : one["snapshots"])
        files.push_back(std::filesystem::path(snapshot.get<std::string>()).filename());
    for (const std::string& file : files) {
        INFO(file);
        const kiln::SafetensorsFile a = kiln::read_safetensors(dir.file("one/" + file)),
                                    b = kiln::read_safetensors(dir.file("two/" + file));
        CHECK(a.tensors.size() == b.tensors.size());
        for (const auto& [name, tensor] : a.tensors) CHECK(tensor.values == b.tensors.at(name).values);
    }
    CHECK(nlohmann::json::parse(last_line(dir.file("two/metrics.jsonl")))["ranks"] == 2);
}

TEST_CASE("a checkpoint written by 2 ranks resumes in one process, and one process's on 2 ranks", "[mpi]") {
    TempDir dir;
    const std::string optimizer = "adam --lr 0.003";
    REQUIRE(run(model + train_flags(optimizer) + " --checkpoint " + dir.file("straight.safetensors")).status == 0);
    // 3 epochs on 2 ranks, then epochs 4 and 5 in one process.
    REQUIRE(run(mpirun(2) + model + train_flags(optimizer, 3) + " --checkpoint " + dir.file("a.safetensors")).status ==
            0);
    Run resumed = run(model + train_flags(optimizer) + " --resume " + dir.file("a.safetensors") + " --checkpoint " +
                      dir.file("a.safetensors"));
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK(relative_difference(dir.file("a.safetensors"), dir.file("straight.safetensors")) <= 1e-5);
    // And the other way: 3 epochs alone, the rest on 2 ranks (rank 0 reads the checkpoint for all).
    REQUIRE(run(model + train_flags(optimizer, 3) + " --checkpoint " + dir.file("b.safetensors")).status == 0);
    resumed = run(mpirun(2) + model + train_flags(optimizer) + " --resume " + dir.file("b.safetensors") +
                  " --checkpoint " + dir.file("b.safetensors"));
    REQUIRE(resumed.status == 0);
    CHECK(relative_difference(dir.file("b.safetensors"), dir.file("straight.safetensors")) <= 1e-5);
}

TEST_CASE("eval on 2 ranks scores each sample once and reports what one process reports", "[mpi]") {
    TempDir dir;
    REQUIRE(run(model + train_flags("adam --lr 0.003", 2) + " --checkpoint " + dir.file("c.safetensors")).status == 0);
    const std::string eval = " eval --data " + data("breast_cancer.csv") + " --batch 7 --checkpoint " +
                             dir.file("c.safetensors");
    const Run alone = run(model + eval), job = run(mpirun(2) + model + eval);
    INFO(job.output);
    REQUIRE(alone.status == 0);
    REQUIRE(job.status == 0);
    CHECK(count_of(job.output, "\"samples\"") == 1);
    const nlohmann::json one = last_json_line(alone.output), two = last_json_line(job.output);
    CHECK(two["samples"] == one["samples"]);
    CHECK(two["accuracy"].get<double>() == one["accuracy"].get<double>());
    CHECK(two["loss"].get<double>() == Approx(one["loss"].get<double>()).epsilon(1e-6));
}

TEST_CASE("a rank given a corrupt data file ends the whole job with its error, within seconds", "[mpi]") {
    TempDir dir;
    std::ifstream good(data("breast_cancer.csv"));
    std::string header, row;
    std::getline(good, header);
    std::getline(good, row);
    kiln::test::write_text(dir.file("corrupt.csv"), header + "\n" + row + "\n1.0,abc\n");
    const std::string rest = " --epochs 50 --batch 16";
    const auto start = std::chrono::steady_clock::now();
    // MPMD: rank 0 reads the good file, rank 1 the corrupt one.
    const Run job = run(mpirun(1) + model + " train --no-progress --data " + data("breast_cancer.csv") + rest +
                        " : -np 1 " + model + " train --no-progress --data " + dir.file("corrupt.csv") + rest);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(job.output);
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("two_layer_sigmoid (rank 1 of 2): error: " + dir.file("corrupt.csv")));
    CHECK(seconds < 30);
}

TEST_CASE("ranks that read different data are stopped before training", "[mpi]") {
    TempDir dir;
    std::ifstream full(data("breast_cancer.csv"));
    std::string header, text, line;
    std::getline(full, header);
    for (int i = 0; i < 300 && std::getline(full, line); ++i) text += line + "\n";
    kiln::test::write_text(dir.file("fewer.csv"), "300" + header.substr(header.find(',')) + "\n" + text);
    const std::string rest = " --epochs 2 --checkpoint " + dir.file("never.safetensors");
    const Run job = run(mpirun(1) + model + " train --no-progress --data " + data("breast_cancer.csv") + rest +
                        " : -np 1 " + model + " train --no-progress --data " + dir.file("fewer.csv") + rest);
    INFO(job.output);
    CHECK(job.status != 0);
    CHECK_THAT(job.output, Catch::Contains("the data differs between ranks"));
    CHECK_FALSE(std::filesystem::exists(dir.file("never.safetensors")));
}

TEST_CASE("a rank killed mid-run ends the job instead of leaving the others waiting", "[mpi]") {
    TempDir dir;
    // Rank 1 alone names the marker file, so that pkill finds it and not rank 0 or mpirun.
    const std::string marker = dir.file("rank1-marker.jsonl");
    const std::string flags = " train --no-progress --data " + data("breast_cancer.csv") + " --epochs 1000000";
    const std::string job = "timeout 60 " + mpirun(1) + model + flags + " : -np 1 " + model + flags + " --metrics " +
                            marker;
    // Wait (up to 20 s: a loaded machine starts slowly) for rank 1 to run, let it train a second,
    // kill it; mpirun's exit status is the job's.
    const std::string rank1 = "\"^" + model + " .*" + marker + "\"";
    const auto start = std::chrono::steady_clock::now();
    const Run r = run("sh -c '" + job + " & job=$!; for i in $(seq 100); do pgrep -f " + rank1 +
                      " > /dev/null && break; sleep 0.2; done; sleep 1; pkill -9 -f " + rank1 + "; wait $job'");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.status != 124);  // not ended by timeout: mpirun noticed
    CHECK(seconds < 30);
}

TEST_CASE("under mpirun, commands without work to share are refused, and --check-collectives passes", "[mpi]") {
    kiln::test::require_refused(run(mpirun(2) + model + " summary"), "'summary' runs in one process");
    TempDir dir;
    const std::string flags = train_flags("adam --lr 0.003", 2);
    REQUIRE(run(mpirun(2) + model + flags + " --checkpoint " + dir.file("plain.safetensors")).status == 0);
    const Run checked =
        run(mpirun(2) + model + " --check-collectives" + flags + " --checkpoint " + dir.file("checked.safetensors"));
    INFO(checked.output);
    REQUIRE(checked.status == 0);
    CHECK(relative_difference(dir.file("checked.safetensors"), dir.file("plain.safetensors")) == 0);
}

TEST_CASE("gradient buckets reduced while the backward stage runs give the bits of one reduction after it",
          "[mpi]") {
    // two_layer_sigmoid's backward stage signals output.bias, output.weight, hidden.bias,
    // hidden.weight in that order; 1-byte buckets make each gradient its own bucket, started
    // while the stage computes the next. Two ranks sum a + b either way: the same bits. With an
    // uneven batch and a rank that never has rows (it sends zeros in the same buckets), the
    // result stays one process's within rounding; --check-collectives verifies the order.
    TempDir dir;
    const std::string flags = train_flags("adam --lr 0.003", 3);
    auto train = [&](int ranks, const std::string& name, const std::string& extra) {
        const Run job = run(mpirun(ranks) + model + " --check-collectives" + flags + extra + " --checkpoint " +
                            dir.file(name + ".safetensors") + " --metrics " + dir.file(name + ".jsonl"));
        INFO(job.output);
        REQUIRE(job.status == 0);
        return nlohmann::json::parse(last_line(dir.file(name + ".jsonl")));
    };
    CHECK(train(2, "after", " --allreduce-bucket-mb 0")["allreduce_buckets"] == 0);
    CHECK(train(2, "buckets", " --allreduce-bucket-mb 0.000001")["allreduce_buckets"] == 4);
    CHECK(train(2, "one_bucket", " --allreduce-bucket-mb 4")["allreduce_buckets"] == 1);  // the whole 2 kB arena
    // Unasked, a job on one machine reduces after the stage (its cores would do the sums anyway).
    CHECK(train(2, "default", "")["allreduce_buckets"] == 0);
    for (const std::string name : {"buckets", "one_bucket"}) {
        INFO(name);
        const kiln::SafetensorsFile a = kiln::read_safetensors(dir.file(name + ".safetensors")),
                                    b = kiln::read_safetensors(dir.file("after.safetensors"));
        for (const auto& [tensor_name, tensor] : b.tensors) CHECK(tensor.values == a.tensors.at(tensor_name).values);
    }
    REQUIRE(run(model + train_flags("momentum --momentum 0.9 --lr 0.02", 1, 2) + " --checkpoint " +
                dir.file("alone.safetensors"))
                .status == 0);
    const std::string uneven = train_flags("momentum --momentum 0.9 --lr 0.02", 1, 2) +
                               " --allreduce-bucket-mb 0.000001 --checkpoint " + dir.file("idle_rank.safetensors");
    const Run job = run(mpirun(3) + model + " --check-collectives" + uneven);
    INFO(job.output);
    REQUIRE(job.status == 0);
    CHECK(relative_difference(dir.file("idle_rank.safetensors"), dir.file("alone.safetensors")) <= 1e-5);
    // A bucket size that is no size is refused before anything trains.
    for (const char* bad : {"-1", "nan", "many"}) {
        INFO(bad);
        kiln::test::require_refused(run(model + flags + " --allreduce-bucket-mb " + bad), "--allreduce-bucket-mb");
    }
}
