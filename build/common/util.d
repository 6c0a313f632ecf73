build/common/util.o: common/util.c common/pidbox.h
common/pidbox.h:
