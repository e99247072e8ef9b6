package parquetlog

import "github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"

// Plan cuts the file into chunks of consecutive row groups of about
// chunkSize uncompressed bytes each (at least one group a chunk, at most
// maxChunks chunks: the size grows when needed). A file smaller than
// smallObject (stored bytes) is one chunk. Items are chunk.Parquet items:
// Start and End are row-group indexes [Start, End), From and To the byte
// range they read, Lines the rows before them.
func (f *File) Plan(chunkSize int64, maxChunks int, smallObject int64) *chunk.Plan {
	if chunkSize <= 0 {
		chunkSize = chunk.DefaultChunkSize
	}
	if maxChunks <= 0 {
		maxChunks = chunk.DefaultMaxChunks
	}
	p := &chunk.Plan{Kind: chunk.Parquet, Size: f.src.Size(), USize: f.USize(), Lines: f.Rows, ChunkSize: chunkSize}
	if smallObject > f.src.Size() || len(f.Groups) <= 1 {
		p.ChunkSize = max(chunkSize, p.USize)
		p.Items = []chunk.Item{f.item(0, 0, len(f.Groups))}
		return p
	}
	for {
		p.Items = p.Items[:0]
		start, acc := 0, int64(0)
		for i, g := range f.Groups {
			if i > start && acc+g.Bytes > chunkSize {
				p.Items = append(p.Items, f.item(len(p.Items), start, i))
				start, acc = i, 0
			}
			acc += g.Bytes
		}
		p.Items = append(p.Items, f.item(len(p.Items), start, len(f.Groups)))
		if len(p.Items) <= maxChunks {
			p.ChunkSize = chunkSize
			return p
		}
		chunkSize += chunkSize/4 + 1
	}
}

func (f *File) item(n, first, last int) chunk.Item {
	it := chunk.Item{N: n, Kind: chunk.Parquet, Start: int64(first), End: int64(last), From: 4, To: 4}
	if first < last {
		it.From, it.To = f.Groups[first].From, f.Groups[last-1].To
		it.Lines = f.Groups[first].FirstRow
	} else {
		it.Lines = 0
	}
	return it
}
