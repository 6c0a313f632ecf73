build/common/xmalloc.o: common/xmalloc.c common/pidbox.h
common/pidbox.h:
