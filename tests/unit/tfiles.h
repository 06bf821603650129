/*
** tfiles.h: file-system helpers shared by the C unit tests.
**   ttCountParquet(dir): the number of *.parquet files anywhere below dir
**   (hidden entries skipped), 0 if dir cannot be opened.
*/
#ifndef TT_FILES_H
#define TT_FILES_H
#include <dirent.h>
#include <stdio.h>
#include <string.h>

static int ttCountParquet(const char *zDir){
  DIR *d = opendir(zDir);
  struct dirent *e;
  int n = 0;
  if( d==0 ) return 0;
  while( (e = readdir(d))!=0 ){
    char z[1024];
    size_t l = strlen(e->d_name);
    if( e->d_name[0]=='.' ) continue;
    snprintf(z, sizeof z, "%s/%s", zDir, e->d_name);
    if( l>8 && strcmp(e->d_name+l-8, ".parquet")==0 ) n++;
    else n += ttCountParquet(z);
  }
  closedir(d);
  return n;
}

#endif
