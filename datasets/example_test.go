package datasets_test

import (
	"bytes"
	"fmt"

	"github.com/continuousnet/repro/datasets"
)

// A CIFAR-10 batch file is a sequence of records: one label byte, then the
// 32×32 R, G and B planes.
func ExampleDecodeCIFAR10() {
	rec := make([]byte, 1+3072)
	rec[0] = 3       // cat
	rec[1+1024] = 77 // green channel, pixel (0, 0)
	d, err := datasets.DecodeCIFAR10(bytes.NewReader(append(rec, rec...)), "data_batch_1.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), d.Classes[d.Labels[0]], d.Image(0)[1024])

	_, err = datasets.DecodeCIFAR10(bytes.NewReader(rec[:1000]), "data_batch_1.bin")
	fmt.Println(err)
	// Output:
	// 2 cat 77
	// datasets: data_batch_1.bin: record 0: malformed data: short record: 1000 bytes, a cifar10 record has 3073 (1 label + 3072 pixel bytes) (the file is truncated or corrupt: download it again (see `make data`))
}

// The training input of the paper's CIFAR-10 experiments: a balanced
// subset, shuffled and augmented every epoch, batches in the channel-major
// layout [C][N·H·W].
func ExampleNewIterator() {
	d := &datasets.Dataset{Name: "tiny", Classes: []string{"a", "b"}, C: 3, H: 32, W: 32,
		Pixels: make([]uint8, 10*3*32*32), Labels: []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}}
	sub, _ := d.StratifiedSubset(2, 7) // 2 images per class
	it := datasets.NewIterator(sub, datasets.CIFAR10Train(3, 42))
	defer it.Close()
	x := make([]float32, it.BatchFloats()) // owned by the caller, reused
	labels := make([]int, 3)
	for epoch := range 2 {
		it.StartEpoch(epoch)
		for n := it.Next(x, labels); n > 0; n = it.Next(x, labels) {
			// channel c of image k of this batch: x[c*n*32*32+k*32*32:][:32*32]
			fmt.Println("epoch", epoch, "batch of", n)
		}
	}
	// Output:
	// epoch 0 batch of 3
	// epoch 0 batch of 1
	// epoch 1 batch of 3
	// epoch 1 batch of 1
}

func ExampleDataset_StratifiedSubset() {
	d := &datasets.Dataset{Name: "toy", Classes: []string{"a", "b", "c"}, C: 1, H: 1, W: 1,
		Pixels: make([]uint8, 30), Labels: make([]int, 30)}
	for i := range d.Labels {
		d.Labels[i] = i % 3
	}
	sub, err := d.StratifiedSubset(4, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.Name, sub.Len(), sub.ClassCounts())
	// Output: toy[4/class,seed=1] 12 [4 4 4]
}
