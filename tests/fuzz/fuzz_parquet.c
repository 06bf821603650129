/* libFuzzer target: the Parquet reader (ext/codec/parquet_read.c and everything
** under it: thrift decoder, encodings, snappy/gzip/zstd, page index).
** The input is a whole file served through the range-read callback; every
** column of every row group is read, with and without a page-index row
** selection, and with partial selections placed by the input's last bytes.  Any crash, over-read or leak is a bug; errors are expected.
** Seeds: tests/fuzz/corpus/fuzz_parquet/ (small files from tslite's writer
** and from DuckDB, incl. snappy, dictionary, v1 and v2 pages). */
#include "pq_int.h"
#include <stdlib.h>
#include <string.h>

typedef struct Src { const uint8_t *a; int64_t n; } Src;
static int srcRead(void *p, int64_t off, int64_t n, void *out){
  Src *s = (Src*)p;
  if( off<0 || n<0 || off>s->n || n>s->n-off ) __builtin_trap();  /* reader must stay in range */
  memcpy(out, s->a+off, (size_t)n);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *a, size_t n){
  Src s = { a, (int64_t)n };
  TsPqReader *r = 0;
  char *zErr = 0;
  int g, k;
  tsPqReaderAllocLimit = (int64_t)16 << 20;
  tsPqReaderVerifyCrc = 0;   /* reach the decoders behind the page CRC */
  if( tsPqReaderOpen(&r, srcRead, &s, (int64_t)n, &zErr) ){
    free(zErr);
    return 0;
  }
  for(g=0; g<tsPqReaderRowGroupCount(r) && g<8; g++){
    TsPqRange rg;
    TsPqRowSel sel;
    memset(&rg, 0, sizeof(rg));
    for(k=0; k<tsPqReaderColumnCount(r) && k<16; k++){
      TsPqColumnData d;
      TsPqStats st;
      tsPqReaderChunkStats(r, g, k, &st);
      if( tsPqReaderReadColumn(r, g, k, 0, &d)==0 ){
        if( d.nRow!=tsPqReaderRowGroupRows(r, g) ) __builtin_trap();
        tsPqColumnDataFree(&d);
      }
    }
    rg.iCol = 0; rg.bMin = 1; rg.min.i = 5; rg.min.r = 5; rg.min.z = "m"; rg.min.n = 1;
    (void)tsPqReaderRowGroupMayMatch(r, g, &rg, 1);
    if( tsPqReaderSelectRows(r, g, &rg, 1, &sel)==0 ){
      for(k=0; k<tsPqReaderColumnCount(r) && k<16; k++){
        TsPqColumnData d;
        if( tsPqReaderReadColumn(r, g, k, &sel, &d)==0 ){
          if( d.nRow!=sel.nRow ) __builtin_trap();
          tsPqColumnDataFree(&d);
        }
      }
      tsPqRowSelFree(&sel);
    }
    {
      /* Partial selections (the reader decodes only the selected spans of
      ** a page): a middle range, and two ranges with an empty one between,
      ** placed by the input's last bytes. */
      int64_t nRgRow = tsPqReaderRowGroupRows(r, g), aR[6];
      uint64_t h = n>=4 ? (uint64_t)a[n-1] | (uint64_t)a[n-2]<<8 | (uint64_t)a[n-3]<<16 : 7;
      int q;
      if( nRgRow>0 && nRgRow<((int64_t)1<<24) ){
        aR[0] = (int64_t)(h % (uint64_t)nRgRow);
        aR[1] = aR[0] + (int64_t)((h>>8) % (uint64_t)(nRgRow-aR[0]+1));
        aR[2] = aR[3] = aR[1];
        aR[4] = aR[3] + (int64_t)((h>>4) % (uint64_t)(nRgRow-aR[3]+1));
        aR[5] = nRgRow;
        for(q=0; q<2; q++){
          sel.aRange = aR;
          sel.nRange = q ? 3 : 1;
          sel.nRow = q ? (aR[1]-aR[0]) + (aR[5]-aR[4]) : aR[1]-aR[0];
          for(k=0; k<tsPqReaderColumnCount(r) && k<16; k++){
            TsPqColumnData d;
            if( tsPqReaderReadColumn(r, g, k, &sel, &d)==0 ){
              if( d.nRow!=sel.nRow ) __builtin_trap();
              tsPqColumnDataFree(&d);
            }
          }
        }
      }
    }
  }
  tsPqReaderFree(r);
  return 0;
}
