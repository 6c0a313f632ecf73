build/common/uuid.o: common/uuid.c common/pidbox.h
common/pidbox.h:
