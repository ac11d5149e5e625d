// The processes of one data-parallel job, and the few collectives training needs.
//
// A binary started alone is rank 0 of 1: every collective is then a no-op and MPI is never
// initialized (no output of its own, no start-up cost). Started by an MPI launcher (mpirun, srun),
// it joins the launcher's job; built without MPI (-DKILN_MPI=OFF, or no MPI found), it refuses
// a job of more than one process instead of training N independent copies.
//
// Every collective is called by every rank in the same order with the same sizes: the training
// loop keeps that true by giving each rank the same number of steps. `check_collectives` verifies
// it before each call (a debug aid: one extra small allgather per collective).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kiln::distributed {

// Joins the launcher's job, if there is one; idempotent.
void start();
// Leaves it (MPI_Finalize) after a successful run; idempotent, a no-op when alone.
void finish();
// Ends every process of the job with `exit_code`, now: after an error on one rank the others may
// be waiting in a collective that will never complete.
[[noreturn]] void abort_job(int exit_code);

int rank();        // 0 when alone
int size();        // 1 when alone
int local_size();  // processes of this job on this machine (they share its cores)
inline bool root() { return rank() == 0; }
inline bool active() { return size() > 1; }

// This rank's share of `items` (a global batch's rows, a data set's samples): contiguous, in rank
// order, the first items % size() ranks one more than the others.
struct Share {
    std::size_t begin = 0, count = 0;
};
inline Share share_of(std::size_t items, int of_rank, int ranks) {
    const std::size_t base = items / std::size_t(ranks), extra = items % std::size_t(ranks), r = std::size_t(of_rank);
    return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}
inline Share share_of(std::size_t items) { return share_of(items, rank(), size()); }

// Element-wise sums in place: every rank ends with the same values.
void sum(std::span<float> values);
void sum(std::span<double> values);
// The same sum, started now and finished in the background while the caller computes (a bucket
// of gradients while the backward stage computes the rest): the values are multiplied by `scale`,
// then summed in place over the ranks. Sums start in the order they are asked for, which must be
// the same on every rank; nothing may touch `values` until wait_for_sums() returns, which waits
// for every sum started and throws what failed. Every other collective waits for them first.
// Over MPI a communication thread issues them (MPI_Iallreduce, polled without spinning), when MPI
// grants threads (MPI_THREAD_SERIALIZED); otherwise they run in wait_for_sums().
void start_sum(std::span<float> values, float scale);
void wait_for_sums();
// Rank 0's values to every rank (the same count everywhere).
void broadcast(std::span<float> values);
// Rank 0's bytes to every rank (any size: the others' strings are resized).
void broadcast(std::string& bytes);
// Whether every rank passed the same value (every rank gets the answer).
bool same_on_every_rank(uint64_t value);

// Before each collective, check that every rank is issuing the same one with the same size, and
// fail naming the ranks that differ (--check-collectives).
void check_collectives(bool enabled);

}  // namespace kiln::distributed
